// scripts/lib/apt-sources.sh reads apt's sources in every layout a new Debian or Ubuntu machine may have. A new
// Debian 12 machine has deb822 sources only and no /etc/apt/sources.list: the install script once died there on a
// `grep` of the missing file under pipefail. Each case is a real folder of apt files read by the real script.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const LIB = resolve('scripts/lib/apt-sources.sh');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function aptDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'facecast-apt-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Runs apt_suite_uri under the install script's own shell options, so a pipefail trap fails the test. */
function suiteUri(dir: string, suite: string): string {
  return execFileSync('bash', ['-c', `set -euo pipefail; source "$1"; apt_suite_uri "$2" "$3"`, 'x', LIB, dir, suite], {
    encoding: 'utf8',
  }).trim();
}

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('apt_suite_uri', () => {
  it('reads a deb822-only machine with no sources.list (a new Debian 12)', () => {
    const dir = aptDir({ 'sources.list.d/debian.sources': DEB822 });
    expect(suiteUri(dir, 'bookworm')).toBe('http://deb.debian.org/debian');
    expect(suiteUri(dir, 'bookworm-security')).toBe('http://deb.debian.org/debian-security');
    expect(suiteUri(dir, 'bookworm-backports')).toBe('');
  });

  it('reads the one-line format, with options in brackets and comments', () => {
    const dir = aptDir({
      'sources.list': [
        '# deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 DVD Binary-1]/ bookworm contrib main',
        'deb-src http://src.example.org/debian bookworm main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.net/pub/linux/debian/ bookworm main # local',
        'deb http://security.debian.org/debian-security bookworm-security main',
      ].join('\n'),
    });
    expect(suiteUri(dir, 'bookworm')).toBe('http://mirror.example.net/pub/linux/debian/');
    expect(suiteUri(dir, 'bookworm-security')).toBe('http://security.debian.org/debian-security');
  });

  it('reads both layouts at once, sources.list first as apt does', () => {
    const dir = aptDir({
      'sources.list': 'deb https://ftp.example.de/debian bookworm main\n',
      'sources.list.d/debian.sources': DEB822,
      'sources.list.d/backports.list': 'deb http://ftp.example.de/debian bookworm-backports main\n',
    });
    expect(suiteUri(dir, 'bookworm')).toBe('https://ftp.example.de/debian');
    expect(suiteUri(dir, 'bookworm-backports')).toBe('http://ftp.example.de/debian');
  });

  it('skips disabled stanzas, deb-src, cdrom and other suites; reads continuation lines and any key case', () => {
    const dir = aptDir({
      'sources.list.d/a-disabled.sources': 'Types: deb\nURIs: http://old.example.org/debian\nSuites: bookworm\nEnabled: no\n',
      'sources.list.d/b-src.sources': 'Types: deb-src\nURIs: http://src.example.org/debian\nSuites: bookworm\n',
      'sources.list.d/c-cdrom.list': 'deb cdrom:/media/cdrom/ bookworm main\n',
      'sources.list.d/d-ubuntu-style.sources': 'types: deb\nuris: http://archive.example.com/ubuntu\nsuites: noble\n  noble-updates\ncomponents: main\n',
      'sources.list.d/e-mirror.sources': 'Types: deb deb-src\nURIs: cdrom:/x/\n http://mirror.example.org/debian\nSuites: bookworm\n',
    });
    expect(suiteUri(dir, 'bookworm')).toBe('http://mirror.example.org/debian');
    expect(suiteUri(dir, 'noble-updates')).toBe('http://archive.example.com/ubuntu');
  });

  it('answers nothing, and does not fail, when apt has no sources at all', () => {
    expect(suiteUri(aptDir({}), 'bookworm')).toBe('');
    expect(suiteUri(join(tmpdir(), 'facecast-no-such-apt-dir'), 'bookworm')).toBe('');
  });
});
