/**
 * Remembers every value a tree showed at the previous stop, so a node can say "changed since the
 * last stop" (peripheral-viewer's highlight). Keys are stable paths (`vm/0/cr3`, `tbl:vm:4:0x1a:7`),
 * which also keeps expanded subtrees matched across stops.
 */
import * as vscode from 'vscode';

export class ChangeTracker {
  private previous = new Map<string, string>();
  private current = new Map<string, string>();
  private step: number | null = null;

  /** Called once per stop: the values seen so far become the ones to compare against. */
  beginStop(step: number | null): void {
    if (step !== null && step === this.step) return;
    this.step = step;
    for (const [k, v] of this.current) this.previous.set(k, v);
    this.current = new Map();
  }

  /** Records `value` under `key`; true when an earlier stop showed a different value. */
  note(key: string, value: string): boolean {
    this.current.set(key, value);
    const before = this.previous.get(key);
    return before !== undefined && before !== value;
  }

  clear(): void {
    this.previous.clear();
    this.current.clear();
    this.step = null;
  }
}

/** Marks a tree item as changed: the label highlighted and an orange dot, the way the Variables view flags a change. */
export function markChanged(item: vscode.TreeItem, changed: boolean): void {
  if (!changed) return;
  const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
  item.label = { label, highlights: [[0, label.length]] };
  item.iconPath = new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('charts.orange'));
  item.description = `${item.description ?? ''} (changed)`.trim();
}
