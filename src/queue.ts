/**
 * A FIFO of tasks for the ready queue: amortised O(1) push and shift on one array.
 * Plain fields, not #private ones: this is the hottest structure in the kernel and private
 * field access is slower before the JIT has warmed up. Imports nothing.
 */
export class Fifo<T> {
  /** @internal */ items: (T | undefined)[] = [];
  /** @internal */ head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    const items = this.items;
    const head = this.head;
    if (head >= items.length) return undefined;
    const item = items[head];
    items[head] = undefined;
    this.head = head + 1;
    if (head + 1 === items.length) {
      items.length = 0;
      this.head = 0;
    } else if (head >= 4096 && head * 2 >= items.length) {
      this.items = items.slice(head + 1);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
