// One streaming response in Mesos' RecordIO framing: `<byte length>\n<JSON>` per event, on a
// hijacked fastify reply. Events produced before the response may start (while a subscription
// is being committed) are held and written once it opens, so nothing is lost or reordered.

import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A subscriber whose unsent bytes exceed this is cut off rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export function recordio(event: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(event), 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'ascii'), body]);
}

export class RecordIOStream {
  private pending: Buffer[] | undefined = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private res: ServerResponse | undefined;
  private ended = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(private readonly maxBufferedBytes = MAX_BUFFERED_BYTES) {}

  get isOpen(): boolean {
    return !!this.res && !this.ended;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Starts the 200 response. `heartbeat` is written every `heartbeatMs`. The reply is hijacked:
   * fastify no longer answers it.
   */
  open(req: FastifyRequest, reply: FastifyReply, headers: Record<string, string>, heartbeat?: { ms: number; event: unknown }): void {
    if (this.ended) return;
    reply.hijack();
    const res = reply.raw;
    this.res = res;
    const contentType = wantsRecordioMediaType(req) ? { 'Content-Type': 'application/recordio', 'Message-Content-Type': 'application/json' } : { 'Content-Type': 'application/json' };
    res.writeHead(200, { ...contentType, 'Cache-Control': 'no-cache', ...headers });
    req.raw.socket?.setNoDelay(true);
    req.raw.socket?.setKeepAlive(true);
    res.on('close', () => this.finish());
    res.on('error', () => this.finish());
    const held = this.pending ?? [];
    this.pending = undefined;
    for (const b of held) this.write(b);
    if (heartbeat && !this.ended) {
      const frame = recordio(heartbeat.event);
      this.heartbeat = setInterval(() => this.write(frame), heartbeat.ms);
      this.heartbeat.unref();
    }
    // the peer may have gone while the subscription was being committed
    if (req.raw.socket?.destroyed) this.finish();
  }

  send(event: unknown): void {
    if (this.ended) return;
    const frame = recordio(event);
    if (this.pending) this.pending.push(frame);
    else this.write(frame);
  }

  /** Ends the response (the client sees the stream close). */
  end(): void {
    if (this.ended) return;
    if (this.res) this.res.end();
    this.finish();
  }

  /** Called once, when the stream ends for any reason. */
  onClose(fn: () => void): void {
    if (this.ended) fn();
    else this.closeListeners.push(fn);
  }

  private write(frame: Buffer): void {
    const res = this.res;
    if (!res || this.ended) return;
    if (res.writableLength > this.maxBufferedBytes) {
      // too slow a reader: drop it; a scheduler resubscribes, an operator client reconnects
      res.destroy();
      this.finish();
      return;
    }
    res.write(frame);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.pending = undefined;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const fn of this.closeListeners.splice(0)) fn();
  }
}

/** Mesos ≥ 1.3 clients may ask for `application/recordio` framing with JSON messages. */
function wantsRecordioMediaType(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return /application\/recordio/i.test(accept) && !/application\/json/i.test(accept);
}
