// A small service for proxy tests: HTTP answers with what it received and which task it is;
// WebSocket upgrades are answered by hand (no modules, so it runs as `nobody` from anywhere)
// and each text frame comes back as "<task id>:<text>".

export const ECHO_SERVER = String.raw`
const http = require('http');
const crypto = require('crypto');
const task = process.env.MESOS_TASK_ID;
const server = http.createServer((req, res) => {
  let size = 0;
  let head = '';
  req.on('data', (d) => { size += d.length; if (head.length < 64) head += d.toString().slice(0, 64 - head.length); });
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-echo-task', task);
    res.end(JSON.stringify({ task, port: process.env.PORT0, method: req.method, url: req.url, headers: req.headers, size, head }));
  });
});
server.on('upgrade', (req, sock) => {
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n');
  let buf = Buffer.alloc(0);
  sock.on('error', () => sock.destroy());
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      const op = buf[0] & 15;
      let len = buf[1] & 127;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { sock.destroy(); return; }
      const mask = buf[1] & 128 ? buf.subarray(off, off + 4) : null;
      if (mask) off += 4;
      if (buf.length < off + len) return;
      let payload = Buffer.from(buf.subarray(off, off + len));
      buf = buf.subarray(off + len);
      if (mask) payload = payload.map((b, i) => b ^ mask[i % 4]);
      if (op === 8) { sock.end(Buffer.from([0x88, 0])); return; }
      if (op === 1) {
        const out = Buffer.from(task + ':' + payload.toString());
        const hdr = out.length < 126 ? Buffer.from([0x81, out.length]) : Buffer.from([0x81, 126, out.length >> 8, out.length & 255]);
        sock.write(Buffer.concat([hdr, out]));
      }
    }
  });
});
server.listen(Number(process.env.PORT0), '127.0.0.1');
`;

/** A Marathon app running the echo server, health-checked over HTTP on its first port. */
export function echoApp(id: string, instances: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    cmd: 'exec node -e "$ECHO_SERVER"',
    env: { ECHO_SERVER },
    cpus: 0.1,
    mem: 64,
    instances,
    healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 10, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 5 }],
    ...extra,
  };
}
