// A tiny DOM builder: h('button', {onclick, 'aria-label': ...}, 'text'). No framework: the views
// are rebuilt from data, and a handful of helpers keep that readable.

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'open']);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2), value as Handler);
    } else if (PROPERTIES.has(key)) {
      (element as unknown as Record<string, unknown>)[key] = value;
    } else if (key === 'class') {
      element.className = String(value);
    } else {
      element.setAttribute(key, value === true ? '' : String(value));
    }
  }
  // A table that may scroll sideways in its box is reachable by keyboard (axe:
  // scrollable-region-focusable).
  if (element.classList.contains('table-wrap') && !element.hasAttribute('tabindex')) element.tabIndex = 0;
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let counter = 0;
/** A unique element id, for label for= and aria-describedby. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
