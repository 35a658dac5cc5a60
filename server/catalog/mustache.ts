// The Mustache subset that Universe templates use, rendered for JSON output.
//
// `{{a.b}}` inserts the value at a dot path. Because every Universe template is a JSON document,
// a string is inserted JSON-string-escaped without its quotes (the template supplies them), so an
// option holding `"` or `\` can never break out of the string it lands in; numbers and booleans
// are inserted as JSON literals, objects and arrays as JSON. `{{{a.b}}}` and `{{& a.b}}` insert
// the raw text. Sections `{{#a}}…{{/a}}` render when `a` is truthy (once per item of an array,
// with the item as the innermost scope); inverted sections `{{^a}}…{{/a}}` when it is falsy or an
// empty array. `{{! comments }}` vanish. Missing names render as nothing, as in Mustache. There
// are no partials and no delimiter changes: a template that uses them fails with a clear error.

export class TemplateError extends Error {}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'var'; name: string; raw: boolean; at: number }
  | { kind: 'section'; name: string; inverted: boolean; children: Node[]; at: number };

const TAG = /\{\{(\{?)\s*([#^/!&>=]?)\s*([^}]*?)\s*(\}?)\}\}/g;

/** Line and column of an offset, for error messages. */
function where(src: string, at: number): string {
  const before = src.slice(0, at).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

export function parseTemplate(src: string): Node[] {
  const root: Node[] = [];
  const stack: Array<{ name: string; children: Node[]; at: number }> = [];
  let out = root;
  let last = 0;
  for (const m of src.matchAll(TAG)) {
    const at = m.index;
    if (at > last) out.push({ kind: 'text', text: src.slice(last, at) });
    last = at + m[0].length;
    const [, open, sigil, name, close] = m as unknown as [string, string, string, string, string];
    const triple = open === '{';
    if (triple !== (close === '}')) throw new TemplateError(`unbalanced triple mustache at ${where(src, at)}`);
    if (sigil === '!') continue;
    if (sigil === '>' || sigil === '=') throw new TemplateError(`partials and delimiter changes are not supported (${where(src, at)})`);
    if (!name) throw new TemplateError(`empty tag at ${where(src, at)}`);
    if (!/^[A-Za-z0-9_.\-]+$/.test(name)) throw new TemplateError(`invalid name ${JSON.stringify(name)} at ${where(src, at)}`);
    if (sigil === '#' || sigil === '^') {
      const node: Node = { kind: 'section', name, inverted: sigil === '^', children: [], at };
      out.push(node);
      stack.push({ name, children: out, at });
      out = node.children;
    } else if (sigil === '/') {
      const open = stack.pop();
      if (!open) throw new TemplateError(`closing tag {{/${name}}} without an opening one at ${where(src, at)}`);
      if (open.name !== name) throw new TemplateError(`{{/${name}}} at ${where(src, at)} closes {{#${open.name}}} opened at ${where(src, open.at)}`);
      out = open.children;
    } else {
      out.push({ kind: 'var', name, raw: triple || sigil === '&', at });
    }
  }
  if (stack.length) {
    const open = stack[stack.length - 1]!;
    throw new TemplateError(`{{#${open.name}}} opened at ${where(src, open.at)} is never closed`);
  }
  if (last < src.length) out.push({ kind: 'text', text: src.slice(last) });
  return root;
}

const MISSING = Symbol('missing');

function lookup(scopes: unknown[], name: string): unknown {
  if (name === '.') return scopes[scopes.length - 1];
  const [head, ...rest] = name.split('.');
  for (let i = scopes.length - 1; i >= 0; i--) {
    const s = scopes[i];
    if (s !== null && typeof s === 'object' && Object.prototype.hasOwnProperty.call(s, head!)) {
      let v: unknown = (s as Record<string, unknown>)[head!];
      for (const key of rest) {
        if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, key)) return MISSING;
        v = (v as Record<string, unknown>)[key];
      }
      return v;
    }
  }
  return MISSING;
}

/** A JSON string's contents without the quotes. */
const escapeJson = (s: string): string => JSON.stringify(s).slice(1, -1);

function text(v: unknown, raw: boolean): string {
  if (v === MISSING || v === undefined || v === null) return '';
  if (typeof v === 'string') return raw ? v : escapeJson(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function truthy(v: unknown): boolean {
  if (v === MISSING || v === undefined || v === null || v === false || v === '' || v === 0) return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function renderNodes(nodes: Node[], scopes: unknown[], out: string[]): void {
  for (const n of nodes) {
    if (n.kind === 'text') out.push(n.text);
    else if (n.kind === 'var') out.push(text(lookup(scopes, n.name), n.raw));
    else {
      const v = lookup(scopes, n.name);
      if (n.inverted) {
        if (!truthy(v)) renderNodes(n.children, scopes, out);
      } else if (Array.isArray(v)) {
        for (const item of v) renderNodes(n.children, [...scopes, item], out);
      } else if (truthy(v)) {
        renderNodes(n.children, typeof v === 'object' ? [...scopes, v] : scopes, out);
      }
    }
  }
}

export function renderTemplate(src: string, scope: Record<string, unknown>): string {
  const out: string[] = [];
  renderNodes(parseTemplate(src), [scope], out);
  return out.join('');
}
