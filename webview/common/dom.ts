/**
 * DOM building without `innerHTML`: guest-controlled strings (domain names, explanations, messages)
 * only ever become text nodes, so a name like `<img onerror=…>` is shown, not run.
 */

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'text') element.textContent = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id}`); // a bug in html.ts, not a user error
  return element as T;
}

export function clear(element: Element): void {
  element.replaceChildren();
}

/** Reads a theme colour for canvas drawing, where `var(--…)` cannot be used directly. */
export function themeColor(variable: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(variable).trim();
  return value || fallback;
}

/** Positions a fixed tooltip next to the pointer and fills it with text lines. */
export function showTooltip(tooltip: HTMLElement, x: number, y: number, lines: string[]): void {
  tooltip.textContent = lines.join('\n');
  tooltip.hidden = false;
  const left = Math.min(x + 14, window.innerWidth - tooltip.offsetWidth - 4);
  const top = y + 16 + tooltip.offsetHeight > window.innerHeight ? y - tooltip.offsetHeight - 8 : y + 16;
  tooltip.style.left = `${Math.max(0, left)}px`;
  tooltip.style.top = `${Math.max(0, top)}px`;
}
