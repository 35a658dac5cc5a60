/** Where a JSON pointer's member sits in a JSON text: offsets and the 1-based line it starts on. */
export interface PointerRange {
  start: number;
  end: number;
  line: number;
}

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Every value of a JSON text by its pointer ("/healthChecks/0/portIndex"). An object member's
 * range covers its key too, so selecting it shows `"cpus": 0.1`. Returns what it could read
 * when the text is not valid JSON.
 */
export function locatePointers(text: string): Map<string, PointerRange> {
  const out = new Map<string, PointerRange>();
  const lineStarts = [0];
  for (let k = 0; k < text.length; k++) if (text[k] === '\n') lineStarts.push(k + 1);
  const lineOf = (pos: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const fail = (): never => {
    throw new SyntaxError('not JSON');
  };
  const string = (): string => {
    const start = i;
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (pointer: string, memberStart?: number): void => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') i++;
      else {
        for (;;) {
          ws();
          const keyStart = i;
          const key = string();
          ws();
          if (text[i] !== ':') fail();
          i++;
          value(`${pointer}/${escape(key)}`, keyStart);
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === '}') {
            i++;
            break;
          }
          fail();
        }
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') i++;
      else {
        for (let index = 0; ; index++) {
          value(`${pointer}/${index}`);
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === ']') {
            i++;
            break;
          }
          fail();
        }
      }
    } else if (c === '"') {
      string();
    } else {
      while (i < text.length && !/[,\]}\s]/.test(text[i]!)) i++;
      if (i === start) fail();
    }
    const from = memberStart ?? start;
    out.set(pointer, { start: from, end: i, line: lineOf(from) });
  };
  try {
    value('');
  } catch {
    // keep what was located before the text stopped being JSON
  }
  return out;
}

/** The nearest located pointer at or above `pointer`: an error about a missing field sits at its parent. */
export function nearestRange(ranges: Map<string, PointerRange>, pointer: string): PointerRange | undefined {
  let p = pointer === '/' ? '' : pointer;
  for (;;) {
    const found = ranges.get(p);
    if (found) return found;
    if (p === '') return undefined;
    p = p.slice(0, p.lastIndexOf('/'));
  }
}
