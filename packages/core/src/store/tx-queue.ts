// The worker's asynchronous transactions run one at a time, in order; urgent ones (heartbeats)
// go before those still waiting, after the one under way.
export class TxQueue {
  private readonly waiting: { urgent: boolean; run: () => Promise<void> }[] = [];
  private pumping = false;

  enqueue<T>(job: () => Promise<T>, urgent: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { urgent, run: () => job().then(resolve, reject) };
      const at = urgent ? this.waiting.findIndex((w) => !w.urgent) : -1;
      if (at >= 0) this.waiting.splice(at, 0, entry);
      else this.waiting.push(entry);
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let next = this.waiting.shift(); next; next = this.waiting.shift()) await next.run();
    } finally {
      this.pumping = false;
    }
  }
}
