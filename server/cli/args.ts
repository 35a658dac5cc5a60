// A small argv parser: `--name value`, `--name=value`, `--flag`, `--no-flag`, positionals.
// Each command declares its options so that unknown ones are errors, not silently ignored.

export interface OptionSpec {
  type: 'string' | 'boolean' | 'number';
  help: string;
  default?: string | boolean | number;
  /** May be given several times; values are collected. */
  multiple?: boolean;
  /** A one-letter alias, e.g. 'f' for -f. */
  short?: string;
}

export interface CommandSpec {
  usage: string;
  summary: string;
  options: Record<string, OptionSpec>;
}

export class UsageError extends Error {}

export interface Parsed {
  options: Record<string, string | boolean | number | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

export function parseArgs(argv: string[], spec: CommandSpec): Parsed {
  const options: Parsed['options'] = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
        const long = Object.entries(spec.options).find(([, o]) => o.short === arg.slice(1));
        if (!long) throw new UsageError(`unknown option ${arg}`);
        argv = [...argv.slice(0, i), `--${long[0]}`, ...argv.slice(i + 1)];
        i--;
        continue;
      }
      positionals.push(arg);
      continue;
    }
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let negated = false;
    if (!spec.options[name] && name.startsWith('no-') && spec.options[name.slice(3)]?.type === 'boolean') {
      name = name.slice(3);
      negated = true;
    }
    const opt = spec.options[name];
    if (!opt) throw new UsageError(`unknown option --${name}`);
    if (opt.type === 'boolean') {
      if (value !== undefined && value !== 'true' && value !== 'false') throw new UsageError(`--${name} takes no value`);
      options[name] = negated ? false : value !== 'false';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    let v: string | number = value;
    if (opt.type === 'number') {
      v = Number(value);
      if (!Number.isFinite(v)) throw new UsageError(`--${name} must be a number, got ${value}`);
    }
    if (opt.multiple) {
      const list = (options[name] as string[] | undefined) ?? [];
      list.push(String(v));
      options[name] = list;
    } else options[name] = v;
  }
  for (const [name, opt] of Object.entries(spec.options)) {
    if (options[name] === undefined && opt.default !== undefined) options[name] = opt.default;
  }
  return { options, positionals, help };
}

export function formatHelp(name: string, spec: CommandSpec): string {
  const lines = [`usage: ${spec.usage}`, '', spec.summary, ''];
  const entries = Object.entries(spec.options);
  if (entries.length) {
    lines.push('options:');
    const width = Math.max(...entries.map(([n, o]) => n.length + (o.type === 'boolean' ? 0 : 6))) + 4;
    for (const [n, o] of entries) {
      const left = `  ${o.short ? `-${o.short}, ` : ''}--${n}${o.type === 'boolean' ? '' : ' <' + (o.type === 'number' ? 'n' : 'v') + '>'}`;
      const def = o.default !== undefined ? ` (default: ${String(o.default)})` : '';
      lines.push(`${left.padEnd(width + 2)}${o.help}${def}`);
    }
    lines.push('  --help'.padEnd(width + 2) + 'show this help');
  }
  return `${lines.join('\n')}\n`;
}

/** "k:v;k2:v2" (Mesos --attributes) or "k=v,k2=v2". */
export function parseAttributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(/[;,]/)) {
    const p = part.trim();
    if (!p) continue;
    const m = /^([A-Za-z0-9_.-]+)[:=](.*)$/.exec(p);
    if (!m) throw new UsageError(`bad attribute "${p}": use name:value`);
    out[m[1]!] = m[2]!.trim();
  }
  return out;
}
