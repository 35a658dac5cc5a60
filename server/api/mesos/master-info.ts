// mesos.v1.MasterInfo and the libprocess-style pid, derived from the address a request came in
// on (the master may listen on several).

import { hostname as osHostname } from 'node:os';
import { isIPv4 } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { Master } from '../../master/master.js';

export interface Endpoint {
  ip: string;
  port: number;
  hostname: string;
}

export function endpointOf(req: FastifyRequest): Endpoint {
  const socket = req.raw.socket;
  let ip = socket?.localAddress ?? '127.0.0.1';
  if (ip.startsWith('::ffff:')) ip = ip.slice('::ffff:'.length);
  return { ip, port: socket?.localPort ?? 5050, hostname: osHostname() };
}

export function pidOf(ep: Endpoint): string {
  return `master@${ep.ip.includes(':') ? `[${ep.ip}]` : ep.ip}:${ep.port}`;
}

/** MasterInfo.ip is the IPv4 address as a uint32 in network byte order, read as little-endian. */
function packedIp(ip: string): number {
  if (!isIPv4(ip)) return 0;
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return ((d << 24) >>> 0) + (c << 16) + (b << 8) + a;
}

export function masterInfo(master: Master, req: FastifyRequest): Record<string, unknown> {
  const ep = endpointOf(req);
  return {
    id: master.epoch,
    ip: packedIp(ep.ip),
    port: ep.port,
    pid: pidOf(ep),
    hostname: ep.hostname,
    version: master.version,
    address: { hostname: ep.hostname, ip: ep.ip, port: ep.port },
  };
}
