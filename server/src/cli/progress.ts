/**
 * The one-line progress indicator on stderr for long runs: shown only on a TTY, only once a run has taken longer
 * than a moment (short runs print nothing), redrawn at most ten times a second, and erased when the run ends.
 */

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private shown = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly enabled: boolean,
    private readonly delayMs = 750,
  ) {}

  /**
   * Redraws the line. `force` draws even early: for a phase that runs synchronously for long (the analysis)
   * there is no later chance to draw until it ends.
   */
  update(label: string, done?: number, total?: number, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && (now - this.started < this.delayMs || now - this.lastDraw < 100)) return;
    this.lastDraw = now;
    const count = done === undefined ? '' : total ? ` ${done}/${total}` : ` ${done}`;
    const percent = done !== undefined && total ? ` (${Math.floor((100 * done) / total)}%)` : '';
    this.stream.write(`\r\u001b[2Kjwt-api-security: ${label}${count}${percent}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\u001b[2K');
    this.shown = false;
  }
}
