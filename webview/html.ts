/**
 * The HTML shell of each webview, as a pure string function so the extension and the browser tests
 * render the very same page. The page loads nothing but its own bundle and the codicon font:
 * `default-src 'none'`, scripts only with the per-load nonce, styles and fonts only from the
 * webview's own resource origin (`cspSource`). Guest data never reaches this string; the bundles put
 * it into the DOM with `textContent`.
 */

export type WebviewKind = 'explorer' | 'frameMap' | 'timeline';

export interface WebviewHtmlOptions {
  /** `webview.cspSource` */
  cspSource: string;
  /** A fresh random nonce per page load (base64 or hex). */
  nonce: string;
  /** `webview.asWebviewUri(dist/webview/<kind>.js)` */
  scriptUri: string;
  /** `webview.asWebviewUri(node_modules/@vscode/codicons/dist/codicon.css)` */
  codiconsUri: string;
}

const TITLES: Record<WebviewKind, string> = {
  explorer: 'Page Tables',
  frameMap: 'Frame Map',
  timeline: 'Timeline',
};

/** Escapes text for an HTML attribute or text node. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

// Theme colours only: every colour is a VS Code variable, so light, dark and high-contrast themes work.
const BASE_STYLE = `
  :root { color-scheme: light dark; }
  body {
    margin: 0; padding: 8px 12px; color: var(--vscode-foreground); background: var(--vscode-editor-background);
    font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
  }
  .mono { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
  .toolbar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
  .muted { color: var(--vscode-descriptionForeground); }
  .error { color: var(--vscode-errorForeground); }
  .tooltip {
    position: fixed; pointer-events: none; z-index: 10; padding: 4px 8px; white-space: pre;
    background: var(--vscode-editorHoverWidget-background); color: var(--vscode-editorHoverWidget-foreground);
    border: 1px solid var(--vscode-editorHoverWidget-border);
  }
  [hidden] { display: none !important; }
  button.link {
    background: none; border: none; padding: 0; cursor: pointer; font: inherit;
    color: var(--vscode-textLink-foreground);
  }
  button.link:hover { text-decoration: underline; }
  :focus-visible { outline: 1px solid var(--vscode-focusBorder); }
`;

const VIEW_STYLE: Record<WebviewKind, string> = {
  explorer: `
  .panes { display: flex; gap: 16px; align-items: flex-start; }
  .pane { flex: 1 1 0; min-width: 0; }
  .grid { display: grid; grid-template-columns: repeat(32, 1fr); gap: 1px; margin: 6px 0; max-width: 520px; }
  .cell { aspect-ratio: 1; background: var(--vscode-editorWidget-background); border: 1px solid var(--vscode-widget-border, transparent); cursor: pointer; }
  .cell.present { background: var(--vscode-charts-green); }
  .cell.nonpresent { background: var(--vscode-charts-yellow); opacity: 0.5; }
  .cell.on-path, .row.on-path { outline: 2px solid var(--vscode-charts-orange); }
  .cell.mismatch { background: var(--vscode-charts-red); }
  table.entries { border-collapse: collapse; width: 100%; }
  table.entries td, table.entries th { padding: 1px 6px; text-align: left; white-space: nowrap; }
  table.entries tr.row:hover { background: var(--vscode-list-hoverBackground); }
  tr.row.absent { color: var(--vscode-disabledForeground); }
  tr.row.mismatch td.mark { color: var(--vscode-errorForeground); }
  .crumbs { display: flex; gap: 4px; flex-wrap: wrap; align-items: center; }
  .walk { margin: 8px 0; }
  .walk ol { margin: 4px 0; padding-left: 20px; }
  .walk li.failed { color: var(--vscode-errorForeground); }
  table.hap { border-collapse: collapse; margin-top: 6px; }
  table.hap td, table.hap th { border: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); padding: 2px 6px; }
  table.hap td.ok { background: color-mix(in srgb, var(--vscode-charts-green) 25%, transparent); }
  table.hap td.failing { background: var(--vscode-inputValidation-errorBackground); outline: 2px solid var(--vscode-errorForeground); }
  `,
  frameMap: `
  body { overflow: hidden; height: 100vh; box-sizing: border-box; display: flex; flex-direction: column; }
  #scroller { position: relative; flex: 1 1 auto; overflow-y: auto; }
  #spacer { width: 1px; }
  #map { position: sticky; top: 0; left: 0; display: block; image-rendering: pixelated; cursor: crosshair; }
  .legend { display: flex; gap: 10px; flex-wrap: wrap; }
  .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
  `,
  timeline: `
  #lanes { width: 100%; overflow-x: auto; }
  svg { display: block; }
  .lane-label { fill: var(--vscode-descriptionForeground); font-size: 11px; }
  .mark { cursor: pointer; }
  .mark.trap { fill: var(--vscode-charts-red); }
  .mark.hypercall { fill: var(--vscode-charts-blue); }
  .mark.cr { fill: var(--vscode-charts-purple); }
  .mark:hover { stroke: var(--vscode-focusBorder); stroke-width: 2px; }
  .cursor { stroke: var(--vscode-editorCursor-foreground, var(--vscode-foreground)); stroke-width: 2px; }
  .axis { stroke: var(--vscode-widget-border, var(--vscode-panel-border)); }
  `,
};

const BODIES: Record<WebviewKind, string> = {
  explorer: `
  <div class="toolbar">
    <span class="codicon codicon-type-hierarchy"></span>
    <strong id="domain" class="mono">no domain</strong>
    <vscode-badge id="paging"></vscode-badge>
    <span id="root" class="muted mono"></span>
  </div>
  <form id="walk-form" class="toolbar">
    <vscode-textfield id="va" class="mono" placeholder="virtual address, e.g. 0x10"></vscode-textfield>
    <vscode-button id="walk-button" icon="debug-step-into">Walk</vscode-button>
  </form>
  <section id="walk" class="walk" hidden></section>
  <nav id="crumbs" class="crumbs"></nav>
  <div class="panes"><div id="guest" class="pane"></div><div id="shadow" class="pane" hidden></div></div>`,
  frameMap: `
  <div class="toolbar">
    <span class="codicon codicon-symbol-array"></span>
    <strong>Machine frames</strong><span id="total" class="muted"></span>
    <label>Colour by <select id="color-by"><option value="type">type</option><option value="owner">owner</option></select></label>
    <label>Cell <select id="cell-size"><option>2</option><option selected>4</option><option>8</option><option>16</option></select> px</label>
  </div>
  <div id="legend" class="legend"></div>
  <div id="scroller"><canvas id="map"></canvas><div id="spacer"></div></div>
  <div id="tooltip" class="tooltip mono" hidden></div>`,
  timeline: `
  <div class="toolbar">
    <span class="codicon codicon-history"></span><strong>Timeline</strong>
    <span id="summary" class="muted"></span>
  </div>
  <div id="lanes"></div>
  <div id="detail" class="mono muted"></div>
  <div id="tooltip" class="tooltip mono" hidden></div>`,
};

export function renderWebviewHtml(kind: WebviewKind, options: WebviewHtmlOptions): string {
  const { cspSource, nonce, scriptUri, codiconsUri } = options;
  const n = escapeHtml(nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(cspSource, nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escapeHtml(codiconsUri)}" id="vscode-codicon-stylesheet">
  <style nonce="${n}">${BASE_STYLE}${VIEW_STYLE[kind]}</style>
  <title>${TITLES[kind]}</title>
</head>
<body data-view="${kind}">${BODIES[kind]}
  <script nonce="${n}" src="${escapeHtml(scriptUri)}"></script>
</body>
</html>`;
}

export const renderExplorerHtml = (o: WebviewHtmlOptions): string => renderWebviewHtml('explorer', o);
export const renderFrameMapHtml = (o: WebviewHtmlOptions): string => renderWebviewHtml('frameMap', o);
export const renderTimelineHtml = (o: WebviewHtmlOptions): string => renderWebviewHtml('timeline', o);
