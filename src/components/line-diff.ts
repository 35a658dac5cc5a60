export type DiffOp = 'same' | 'added' | 'removed';

export interface DiffLine {
  op: DiffOp;
  text: string;
  /** Line number in the old text (same, removed) and in the new one (same, added). */
  oldLine?: number;
  newLine?: number;
}

/**
 * Line diff by longest common subsequence. App definitions are a few hundred lines at most, so
 * the quadratic table is small; past the limit the texts are shown as replaced wholesale.
 */
export function diffLines(before: string, after: string, limit = 4000): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length * b.length > limit * limit) {
    return [
      ...a.map((text, i) => ({ op: 'removed' as const, text, oldLine: i + 1 })),
      ...b.map((text, i) => ({ op: 'added' as const, text, newLine: i + 1 })),
    ];
  }
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = LCS length of a[i..] and b[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: 'same', text: a[i]!, oldLine: i + 1, newLine: j + 1 });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      out.push({ op: 'removed', text: a[i]!, oldLine: i + 1 });
      i++;
    } else {
      out.push({ op: 'added', text: b[j]!, newLine: j + 1 });
      j++;
    }
  }
  while (i < n) out.push({ op: 'removed', text: a[i]!, oldLine: ++i });
  while (j < m) out.push({ op: 'added', text: b[j]!, newLine: ++j });
  return out;
}

/** Sorted keys at every level, so a diff shows changed values rather than moved keys. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
