/**
 * The timeline: traps, hypercalls and control-register writes as marks on three lanes over the steps
 * of the run, with the current step as a cursor. Clicking a mark asks the debugger to travel to that
 * step (reverse execution); hovering shows the event and its explanation.
 */
import { byId, clear, showTooltip } from '../common/dom';
import { onExtensionMessage, postToExtension } from '../common/vscodeApi';
import { timelineLane } from '../protocol';
import type { TimelineEvent, TimelineLane, TimelineMessage } from '../protocol';

const SVG = 'http://www.w3.org/2000/svg';
const LANES: [TimelineLane, string][] = [
  ['trap', 'traps'],
  ['hypercall', 'hypercalls'],
  ['cr', 'CR writes'],
];
const LANE_HEIGHT = 28;
const LABEL_WIDTH = 90;
const MIN_STEP_WIDTH = 6;

let timeline: TimelineMessage | null = null;
const tooltip = byId('tooltip');

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) element.setAttribute(k, String(v));
  return element;
}

function describe(e: TimelineEvent): string[] {
  const lines = [`step ${e.step} · ${e.domain}.vcpu${e.vcpu} line ${e.line}`, `${e.class}: ${e.label}`];
  if (e.explanation) lines.push(e.explanation);
  return lines;
}

function render(): void {
  const host = byId('lanes');
  clear(host);
  if (!timeline) {
    byId('summary').textContent = 'waiting for a run…';
    return;
  }
  const { totalSteps, currentStep, events } = timeline;
  const shown = events.filter((e) => timelineLane(e.class) !== null);
  byId('summary').textContent = `${shown.length} events over ${totalSteps} steps · at step ${currentStep}`;
  const stepWidth = Math.max(MIN_STEP_WIDTH, (host.clientWidth - LABEL_WIDTH - 8) / Math.max(1, totalSteps));
  const width = LABEL_WIDTH + stepWidth * Math.max(1, totalSteps) + 8;
  const height = LANES.length * LANE_HEIGHT + 4;
  const root = svg('svg', { width, height, role: 'img', 'aria-label': 'events by step' });
  const x = (step: number): number => LABEL_WIDTH + (step - 1) * stepWidth;

  LANES.forEach(([, label], i) => {
    const y = i * LANE_HEIGHT + LANE_HEIGHT / 2;
    const text = svg('text', { class: 'lane-label', x: 0, y: y + 4 });
    text.textContent = label;
    root.append(text, svg('line', { class: 'axis', x1: LABEL_WIDTH, x2: width, y1: y, y2: y }));
  });

  for (const e of shown) {
    const lane = timelineLane(e.class)!;
    const row = LANES.findIndex(([l]) => l === lane);
    const mark = svg('rect', {
      class: `mark ${lane}`,
      x: x(e.step) + 1,
      y: row * LANE_HEIGHT + 6,
      width: Math.max(3, stepWidth - 2),
      height: LANE_HEIGHT - 12,
      rx: 2,
      'data-step': e.step,
      'data-class': e.class,
      tabindex: 0,
    });
    mark.addEventListener('mousemove', (ev) => showTooltip(tooltip, ev.clientX, ev.clientY, describe(e)));
    mark.addEventListener('mouseleave', () => (tooltip.hidden = true));
    mark.addEventListener('focus', () => (byId('detail').textContent = describe(e).join(' — ')));
    const travel = (): void => postToExtension({ type: 'travelToStep', step: e.step });
    mark.addEventListener('click', travel);
    mark.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') travel();
    });
    root.append(mark);
  }

  const cx = x(currentStep) + stepWidth / 2;
  root.append(svg('line', { class: 'cursor', x1: cx, x2: cx, y1: 0, y2: height }));
  host.append(root);
}

onExtensionMessage((message) => {
  if (message.type === 'timeline') timeline = message;
  else if (message.type === 'currentStep' && timeline) timeline = { ...timeline, currentStep: message.step };
  else return;
  render();
});
new ResizeObserver(() => render()).observe(byId('lanes'));
render();
postToExtension({ type: 'ready', view: 'timeline' });
