/** What every Domains-tree node needs: the session it shows, the fetcher and the change memory. */
import type * as vscode from 'vscode';
import type { PagewalkSessions } from '../../debug/pagewalkSessions';
import type { ChangeTracker } from '../changeTracker';

export interface TreeContext {
  sessions: PagewalkSessions;
  session: vscode.DebugSession;
  changes: ChangeTracker;
  /** Table entries per expandable chunk (the `pagewalk.tree.chunkSize` setting). */
  chunkSize: number;
}
