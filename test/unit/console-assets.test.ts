import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { stop } from 'esbuild';
import { buildConsoleFiles, CONSOLE_ASSETS_FILE } from '../../infra/console/build-console';

type Assets = { files: Record<string, { type: string; immutable: boolean; bytes: number; gzip: string }> };
const committed = () => JSON.parse(readFileSync(CONSOLE_ASSETS_FILE, 'utf8')) as Assets;
const contentOf = (gzip: string) => gunzipSync(Buffer.from(gzip, 'base64')).toString('utf8');

// esbuild's synchronous API keeps a service process; stop it so Jest can exit.
afterAll(() => stop());

describe('the operator console assets', () => {
  it('are committed exactly as console/src builds them (run `npm run build:console` after changing the console)', () => {
    // Arrange
    const built = buildConsoleFiles();

    // Act
    const files = committed().files;

    // Assert
    expect(Object.keys(files).sort()).toEqual(built.map((file) => file.path).sort());
    for (const file of built) {
      expect({ path: file.path, type: files[file.path]!.type, immutable: files[file.path]!.immutable, content: contentOf(files[file.path]!.gzip) }).toEqual({
        path: file.path,
        type: file.type,
        immutable: file.immutable,
        content: file.content,
      });
      expect(files[file.path]!.bytes).toBe(Buffer.byteLength(file.content));
    }
  });

  it('load nothing from another origin: the page names only its own hashed script and stylesheet', () => {
    const files = committed().files;
    const page = contentOf(files['/console']!.gzip);
    const referenced = [...page.matchAll(/(?:src|href)="([^"#][^"]*)"/g)].map((match) => match[1]);

    expect(referenced.sort()).toEqual(['data:,', ...Object.keys(files).filter((path) => path !== '/console')].sort());
    expect(page).not.toMatch(/https?:\/\//);
  });

  it('stay small: under 60 KB compressed in all, so the API bundle keeps its limit', () => {
    const total = Object.values(committed().files).reduce((sum, file) => sum + Buffer.from(file.gzip, 'base64').length, 0);

    expect(total).toBeLessThan(60 * 1024);
  });
});
