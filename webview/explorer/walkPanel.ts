/**
 * The result of walking one VA: each level's table, slot, entry and flags, lit in order, then the
 * translation or the fault. For HAP the walk is also drawn as its two-dimensional grid — every guest
 * table reference translated through the nested tables — with the failing reference marked.
 */
import { h } from '../common/dom';
import { toHex } from '../common/pageEntry';
import type { HapWalk, WalkMessage } from '../protocol';

export function renderWalkPanel(walk: WalkMessage, onOpenLevel: (levelIndex: number) => void): HTMLElement {
  const list = h('ol');
  walk.levels.forEach((level, i) => {
    const failed = !walk.result.ok && walk.result.level === level.level && i === walk.levels.length - 1;
    const where =
      level.table.gfn === null ? `mfn ${toHex(level.table.mfn)}` : `gfn ${toHex(level.table.gfn)}`;
    const open = h('button', { class: 'link', text: `L${level.level}[${level.index}]` });
    open.addEventListener('click', () => onOpenLevel(i));
    list.append(
      h(
        'li',
        { class: failed ? 'failed' : 'ok', 'data-level': level.level },
        open,
        ` of ${where}: ${level.entry} `,
        h('span', { class: 'muted', text: level.flags.join(' ') || 'no flags' }),
      ),
    );
  });
  const r = walk.result;
  const result = r.ok
    ? h('div', { class: 'result', text: `${walk.va} → ${r.address}` })
    : h(
        'div',
        { class: 'result error' },
        `${walk.va}: #${r.fault} error code ${r.code}${r.level === null ? '' : ` at L${r.level}`}`,
        r.explanation ? h('div', { class: 'muted', text: r.explanation }) : null,
      );
  return h(
    'div',
    {},
    h('strong', { text: `Walk of ${walk.va}` }),
    list,
    result,
    walk.hap ? renderHapGrid(walk.hap) : null,
  );
}

const COLUMNS = ['p2m → machine address', 'guest entry'];

export function renderHapGrid(hap: HapWalk): HTMLElement {
  const head = h('tr', {}, h('th', { text: 'reference' }), ...COLUMNS.map((c) => h('th', { text: c })));
  const body = h('tbody');
  hap.rows.forEach((row, r) => {
    const cells = [row.nested, row.guestEntry].map((value, c) => {
      const failing = hap.failing?.row === r && hap.failing.col === c;
      const cls = failing ? 'failing' : value === null ? 'skipped' : 'ok';
      return h('td', {
        class: `${cls} mono`,
        'data-col': c,
        text: failing && value === null ? '✗' : (value ?? '—'),
      });
    });
    body.append(
      h('tr', { 'data-row': r }, h('th', { class: 'mono', text: `${row.ref} ${row.gpa}` }), ...cells),
    );
  });
  return h('table', { class: 'hap', 'aria-label': 'two-dimensional HAP walk' }, h('thead', {}, head), body);
}
