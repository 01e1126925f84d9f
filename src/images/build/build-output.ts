// The classic builder's output: Docker's JSON message stream (`stream` lines, `aux` with each
// stage's image ID, pull progress). With -q, moby keeps the step output in a buffer and writes
// it only if the build fails; a success prints just the image ID.
import type { JsonMessage } from '../types.js';

export class BuildOutput {
  private readonly held: JsonMessage[] | undefined;

  constructor(
    private readonly send: (msg: JsonMessage) => void,
    quiet: boolean,
  ) {
    this.held = quiet ? [] : undefined;
  }

  private write(msg: JsonMessage): void {
    if (this.held) this.held.push(msg);
    else this.send(msg);
  }

  stream(text: string): void {
    if (text !== '') this.write({ stream: text });
  }

  /** Pull progress while FROM fetches its image. */
  progress(msg: JsonMessage): void {
    this.write(msg);
  }

  /** A stage's (and finally the build's) image: the CLI's --iidfile and compose read it. */
  aux(imageId: string): void {
    if (!this.held) this.send({ aux: { ID: imageId } });
  }

  /** A failed -q build shows what it had printed, as moby's quiet mode does. */
  flushHeld(): void {
    for (const m of this.held?.splice(0) ?? []) this.send(m);
  }

  /** Written even with -q (the final ID). */
  always(text: string): void {
    this.send({ stream: text });
  }

  get quiet(): boolean {
    return this.held !== undefined;
  }
}
