// Write replies at the end of the event-loop turn that produced them, all together.
//
// Under load one turn of node's event loop reads many requests (one per ready connection)
// and answers each in turn. Written as soon as it is ready, every reply is a send that wakes
// the sleeping reader on the other end, and on the bench's loopback that wake-up was charged
// to deskset's thread: `perf` put a tenth of the main thread in the kernel's
// sock_def_readable → try_to_wake_up under `res.end()`. Written back to back at the end of the
// turn (setImmediate runs right after the poll phase), the replies reach readers that are
// already awake. Redis writes its replies the same way, just before it goes back to
// epoll_wait. Six paired cold passes on the 10,000-device root (docs/performance.md): the new
// build ahead in every pair, server CPU per request from 174–342 µs to 144–281 µs; cached
// files 0.46 → 0.54 of nginx, p99 19.7 → 11.5 ms.
//
// A reply waits at most for the rest of its own turn: with one request in the turn (a quiet
// server) that is nothing at all.

export class TurnWriter {
  #queue: (() => void)[] = [];
  #flush = (): void => this.flushNow();

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Run `write` at the end of this turn, after the writes queued before it. */
  defer(write: () => void): void {
    if (this.#queue.length === 0) setImmediate(this.#flush);
    this.#queue.push(write);
  }

  /** Run everything queued now. A write that throws is reported and does not stop the others. */
  flushNow(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const write of queue) {
      try {
        write();
      } catch (err) {
        this.onError(err);
      }
    }
  }

  get pending(): number {
    return this.#queue.length;
  }
}
