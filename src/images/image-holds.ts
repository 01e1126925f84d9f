// Images a build stands on (its base, each step's image, the stages COPY --from reads): a count
// per image ID. While held, rmi and prune leave the image alone whatever --force says, as a
// running container holds its image, so a build never loses the image its next step runs on.
export class ImageHolds {
  private readonly counts = new Map<string, number>();

  /** Holds `id` until the returned function is called (once; later calls do nothing). */
  hold(id: string): () => void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.counts.get(id) ?? 1) - 1;
      if (n > 0) this.counts.set(id, n);
      else this.counts.delete(id);
    };
  }

  has(id: string): boolean {
    return this.counts.has(id);
  }
}
