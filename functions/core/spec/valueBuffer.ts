/** Growable Float64 buffer: training columns can hold millions of values. */
export class ValueBuffer {
  private values = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  /** A sorted copy of the values pushed so far. */
  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}
