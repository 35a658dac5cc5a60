/** "1.5", "0.25", "4": cpus as Mesos users write them. */
export function formatCpus(cpus: number): string {
  return Number.isInteger(cpus) ? String(cpus) : String(Math.round(cpus * 100) / 100);
}

/** MiB in, the largest unit that keeps the number readable out: "512 MiB", "7.5 GiB". */
export function formatMiB(mib: number): string {
  if (mib >= 1024 * 1024) return `${trim(mib / (1024 * 1024))} TiB`;
  if (mib >= 1024) return `${trim(mib / 1024)} GiB`;
  return `${trim(mib)} MiB`;
}

function trim(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago"; "just now" under a second or for clock skew. */
export function formatAgo(at: number, now: number): string {
  const seconds = Math.floor((now - at) / 1000);
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** Share of a total as a 0–100 number, safe for a zero total. */
export function percent(used: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.min(100, Math.max(0, (used / total) * 100));
}

/** Bytes in, the largest binary unit that keeps the number readable out: "812 B", "4.2 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${trim(bytes / 1024)} KiB`;
  return formatMiB(bytes / (1024 * 1024));
}

/** "2 CPUs", "0.5 CPUs", "1 CPU". */
export function formatCpuCount(cpus: number): string {
  return `${formatCpus(cpus)} ${cpus === 1 ? 'CPU' : 'CPUs'}`;
}

/** Absolute local date and time, for a title next to a relative time. */
// toLocaleString with options builds a formatter on every call (~1 ms): rows re-render often
let dateTimeFormat: Intl.DateTimeFormat | undefined;

export function formatDateTime(at: number): string {
  // Intl throws on an invalid time where toLocaleString said "Invalid Date": keep saying that
  if (!Number.isFinite(at)) return new Date(at).toLocaleString();
  dateTimeFormat ??= new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  return dateTimeFormat.format(at);
}

/** An ISO timestamp (Marathon's versions) to ms, or NaN. */
export function parseIso(value: string | null | undefined): number {
  return value ? Date.parse(value) : Number.NaN;
}
