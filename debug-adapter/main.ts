/** The stdio entry of the debug adapter: `node dist/debugAdapter.js`. */
import { DebugSession } from '@vscode/debugadapter';
import { PagewalkSession } from './session';

DebugSession.run(PagewalkSession);
