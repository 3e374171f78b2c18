import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** What the bench and the soak share: ports, API calls, and process memory from /proc. */

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** One API call as a client would make it; anything but a 2xx is an error. */
export async function api<T>(
  base: string,
  auth: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: auth, 'kbn-xsrf': 'bench', 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Resident memory now and at its peak, in bytes. */
export function memory(child: ChildProcess): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/**
 * The flags node is given to run the server: those its entry's first line names
 * (`#!/usr/bin/env -S node <flags>`, from src/main.ts), as `npm start` and the container give them.
 */
export function serverNodeFlags(root: string, entry = 'dist/main.mjs'): string[] {
  const first = readFileSync(join(root, entry), 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\/usr\/bin\/env -S node((?: \S+)*)$/.exec(first);
  if (!match) throw new Error(`${entry} does not start with a node hashbang: ${first}`);
  return (match[1] ?? '').split(' ').filter(Boolean);
}

/** The machine's CPU time so far, all CPUs together, in clock ticks (the first line of /proc/stat). */
export interface CpuTimes {
  total: number;
  /** Idle, or waiting on I/O. */
  idle: number;
  /** Taken by the hypervisor for other guests while this machine had work to run. */
  steal: number;
}

export function cpuTimes(): CpuTimes | undefined {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  } catch {
    return undefined;
  }
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is in user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  if (steal === undefined || Number.isNaN(steal)) return undefined;
  return {
    total: [user, nice, system, idle, iowait, irq, softirq, steal].reduce(
      (sum: number, n) => sum + (n ?? 0),
      0,
    ),
    idle: (idle ?? 0) + (iowait ?? 0),
    steal,
  };
}

/** Between two readings: the share of CPU time busy with this machine's work, and stolen. */
export function cpuShares(from: CpuTimes, to: CpuTimes): { busy: number; stolen: number } {
  const total = to.total - from.total;
  if (total <= 0) return { busy: 0, stolen: 0 };
  const stolen = (to.steal - from.steal) / total;
  return { busy: 1 - (to.idle - from.idle) / total - stolen, stolen };
}
