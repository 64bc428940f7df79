/**
 * File and process helpers of the `local` provider: atomic JSON files, a per-key async mutex, and
 * the "is this pid still our machine?" check.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Reads a JSON file, or null when it does not exist. */
export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

/** Writes a JSON file atomically (temp file then rename), so a reader never sees half a record. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** What `writeJsonAtomic` names its temp files: `<file>.<12 hex>.tmp`. */
const TEMP_FILE = /\.json\.[0-9a-f]{12}\.tmp$/;

/**
 * Remove the temp files of atomic writes a killed process left in `dir` and its subdirectories
 * (`depth` levels): only at start, when no write of this provider can be under way.
 */
export async function removeTempFiles(dir: string, depth = 1): Promise<string[]> {
  const removed: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return removed;
    throw error;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && TEMP_FILE.test(entry.name)) {
      await rm(full, { force: true });
      removed.push(full);
    } else if (entry.isDirectory() && depth > 0) removed.push(...(await removeTempFiles(full, depth - 1)));
  }
  return removed;
}

/** Names in a directory, or none when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

/** Total size in bytes of the regular files under `dir`. */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

/** True when `error` is a Node system error with that code. */
export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

// Module-wide so that two provider objects over the same rootDir in one process share the locks.
const lockTails = new Map<string, Promise<void>>();

/** Runs `fn` while holding the mutex `key`; callers queue in arrival order. */
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = lockTails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  lockTails.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (lockTails.get(key) === tail) lockTails.delete(key);
  }
}

const hasProcFs = existsSync('/proc/self/cmdline');

/**
 * True when `pid` is alive and is the machine process started with `bootToken` on its command
 * line. Where `/proc` exists this rules out a recycled pid and a zombie (empty command line);
 * elsewhere it trusts `kill(pid, 0)`.
 */
export async function isMachineProcess(pid: number, bootToken: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false; // ESRCH: gone; EPERM: another user's process, so not ours.
  }
  if (!hasProcFs) return true;
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(bootToken);
  } catch {
    return false;
  }
}
