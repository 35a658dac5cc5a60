// plainCommand: which shell commands the wrapper may run without a second shell, and that the
// argv it makes is the one /bin/sh makes of the same text.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { plainCommand } from '../../server/agent/executor.js';

/** The argv /bin/sh gives the command's program (the words after the first are its arguments). */
function shArgv(value: string): string[] {
  // `set --` then the words: sh splits and expands them as it would for the command itself
  const out = execFileSync('/bin/sh', ['-c', `set -- ${value}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('plainCommand', () => {
  it('splits plain words exactly as /bin/sh does', () => {
    for (const value of ['sleep 600', '  sleep   600  ', 'sleep\t5', '/usr/bin/python3 -m http.server 8080', './run.sh --port=80 a,b user@host:1 50% +x', 'java -Xmx512m -jar app.jar']) {
      const words = plainCommand(value);
      assert.ok(words, `${value} is plain`);
      assert.deepEqual(words, shArgv(value), value);
    }
  });

  it('leaves to the shell anything it would interpret', () => {
    for (const value of [
      'echo $HOME',
      'sleep 1; true',
      'sleep 1 && true',
      'a | b',
      'cat < x',
      'echo hi > x',
      "echo 'a b'",
      'echo "a b"',
      'ls *.txt',
      'ls ?',
      'ls [ab]',
      'cd ~',
      'run # comment',
      'sleep `echo 1`',
      'run \\x',
      'A=1 run',
      'exit 3',
      'exec sleep 1',
      'kill -9 1',
      'true',
      'if true',
      '(sleep 1)',
      'sleep 1 &',
      'a\nb',
      '',
      '   ',
    ]) {
      assert.equal(plainCommand(value), null, JSON.stringify(value));
    }
  });
});
