/**
 * The relative links of the README and the docs pages, and the anchors GitHub gives their headings, so that a
 * moved section or a renamed heading cannot leave a link that leads nowhere.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { ROOT } from './documented-commands';

export interface MarkdownLink {
  /** The file that holds the link, relative to the repository root. */
  readonly file: string;
  /** 1-based line where the link starts. */
  readonly line: number;
  /** The target as written, for example `docs/deploy.md#teardown` or `#configuration`. */
  readonly target: string;
}

/** The README and every page under docs/. */
export function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/**
 * The text with fenced code blocks and inline code blanked out (line breaks kept, so that positions still give
 * line numbers): a `[x](y)` inside code is an example, not a link.
 */
function proseOnly(text: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  let inFence = false;
  const lines = text.split('\n').map((line) => {
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      return '';
    }
    return inFence ? blank(line) : line;
  });
  return lines.join('\n').replace(/`[^`]*`/g, blank);
}

/** Every inline link and image of `text`, its target as written. */
export function linksIn(file: string, text: string): MarkdownLink[] {
  const prose = proseOnly(text);
  const links: MarkdownLink[] = [];
  // Link text may hold one level of brackets and run over a line break, as a wrapped paragraph does.
  for (const match of prose.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const line = (prose.slice(0, match.index).match(/\n/g)?.length ?? 0) + 1;
    links.push({ file, line, target: match[1] });
  }
  return links;
}

/** Whether a target leaves the repository (a web address, an e-mail). */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target);
}

/**
 * The anchor GitHub gives a heading: its text as rendered (link targets and HTML tags dropped), lower-cased,
 * without punctuation other than `-` and `_`, each space a `-`.
 */
export function headingSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings; a repeated heading gets `-1`, `-2`, … as on GitHub. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!heading) continue;
    const slug = headingSlug(heading[1]);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** What is wrong with a relative link, or undefined when it leads to an existing file and heading. */
export function brokenReason(link: MarkdownLink, read: (file: string) => string | undefined): string | undefined {
  const [path, anchor] = link.target.split('#', 2) as [string, string | undefined];
  const file = path === '' ? link.file : normalize(join(dirname(link.file), decodeURIComponent(path)));
  if (file.startsWith('..')) return `${file} is outside the repository`;
  const text = read(file);
  if (text === undefined) return `${file} does not exist`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!file.endsWith('.md')) return `#${anchor} points into ${file}, which has no headings`;
  if (!anchorsOf(text).has(decodeURIComponent(anchor).toLowerCase())) return `${file} has no heading #${anchor}`;
  return undefined;
}

/** Reads a file of the repository, or undefined when it is not there (a directory counts as there). */
export function readRepoFile(file: string): string | undefined {
  const path = join(ROOT, file);
  if (!existsSync(path)) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Every relative link of the README and docs/ that leads nowhere, as `file:line: target (reason)`. */
export function brokenLinks(files: string[] = markdownFiles()): string[] {
  return files.flatMap((file) =>
    linksIn(relative(ROOT, join(ROOT, file)), readFileSync(join(ROOT, file), 'utf8'))
      .filter((link) => !isExternal(link.target))
      .flatMap((link) => {
        const reason = brokenReason(link, readRepoFile);
        return reason ? [`${link.file}:${link.line}: ${link.target} (${reason})`] : [];
      }),
  );
}
