/**
 * Every shell command the README (and each docs/*.md page it links) shows a reader: the lines of its fenced
 * `sh` blocks, and the inline code that starts with a command (`npm …`, `npx …`, `aws …`). It reads whatever the
 * files hold, so a restructured README is checked just the same.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface DocumentedCommand {
  /** The file, relative to the repository root. */
  readonly file: string;
  /** 1-based line where the command starts. */
  readonly line: number;
  /** One simple command: continuation lines joined, comments, pipes and `&&` chains split off. */
  readonly command: string;
  /** The words, shell-quoting removed. */
  readonly words: string[];
}

const SHELL_FENCES = ['sh', 'bash', 'shell', 'console', 'zsh'];
/** Inline code that starts with one of these is a command a reader may copy. */
const COMMAND_WORDS = ['npm', 'npx', 'aws', 'apt-get', 'export'];
/**
 * Whether inline code in prose is a command a reader may copy: it starts with a command word and has arguments.
 * A lone word (`aws`, the partition in a table of values; `npx`) names a tool, it is not a command.
 */
export function isInlineCommand(code: string): boolean {
  const words = code.split(' ');
  return COMMAND_WORDS.includes(words[0]) && words.length > 1;
}

/** Shell glue that feeds a command and needs no coverage of its own. */
const GLUE = ['printf', 'echo', 'cat', 'cd', 'export'];

/** The README and every docs page it links to (one level deep). */
export function documentFiles(): string[] {
  const files = ['README.md'];
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const match of readme.matchAll(/\]\(((?:docs|packages\/[\w-]+)\/[^)#\s]*\.md)(?:#[^)]*)?\)/g)) {
    const file = normalize(match[1]);
    if (!files.includes(file) && existsSync(join(ROOT, file))) files.push(file);
  }
  return files;
}

/** Splits a shell line into words and operators, honouring quotes; `#` outside quotes starts a comment. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated ${c} in: ${text}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[i + 1];
      inWord = true;
      i += 1;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === '|' || c === ';' || (c === '&' && text[i + 1] === '&')) {
      if (inWord) words.push(word);
      const op = c === '&' ? '&&' : text[i + 1] === '|' ? '||' : c;
      words.push(op);
      i += op.length - 1;
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * The simple commands of one logical shell line, without shell glue such as `printf … |` or `export`; a command
 * substitution `$(…)` counts as a command of its own.
 */
function simpleCommands(text: string): string[][] {
  const out: string[][] = [];
  const outer = text.replace(/\$\(([^()]*)\)/g, (_, inner: string) => {
    out.push(...simpleCommands(inner));
    return 'SUBSTITUTED';
  });
  let current: string[] = [];
  for (const word of [...shellWords(outer), ';']) {
    if (['|', ';', '&&', '||'].includes(word)) {
      if (current.length > 0 && !GLUE.includes(current[0])) out.push(current);
      current = [];
    } else {
      current.push(word);
    }
  }
  return out;
}

/** Shows words as a reader would type them (quoting what needs it). */
export function showWords(words: readonly string[]): string {
  return words.map((w) => (/^[\w@%+=:,./<>[\]{}-]+$/.test(w) ? w : `'${w}'`)).join(' ');
}

export function documentedCommands(files: string[] = documentFiles()): DocumentedCommand[] {
  const commands: DocumentedCommand[] = [];
  const add = (file: string, line: number, text: string) => {
    for (const words of simpleCommands(text)) commands.push({ file, line, command: showWords(words), words });
  };
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    let fence: string | undefined;
    let pending: { text: string; line: number } | undefined;
    /** Prose between fences, whose inline code may run over a line break. */
    let prose: { text: string; line: number } | undefined;
    const flushProse = () => {
      if (!prose) return;
      const { text, line } = prose;
      for (const span of text.matchAll(/`([^`]+)`/g)) {
        const code = span[1].replace(/\s+/g, ' ').trim();
        if (!isInlineCommand(code)) continue;
        add(file, line + (text.slice(0, span.index).match(/\n/g)?.length ?? 0), code);
      }
      prose = undefined;
    };
    lines.forEach((raw, index) => {
      const fenceMatch = /^\s*```(\S*)/.exec(raw);
      if (fenceMatch) {
        flushProse();
        fence = fence === undefined ? fenceMatch[1] : undefined;
        return;
      }
      if (fence === undefined) {
        if (raw.trim() === '') flushProse();
        else prose = prose ? { ...prose, text: `${prose.text}\n${raw}` } : { text: raw, line: index + 1 };
        return;
      }
      if (!SHELL_FENCES.includes(fence)) return;
      const joined = pending ? `${pending.text} ${raw.trim()}` : raw.trim();
      const start = pending?.line ?? index + 1;
      if (joined.endsWith('\\')) {
        pending = { text: joined.slice(0, -1).trim(), line: start };
        return;
      }
      pending = undefined;
      add(file, start, joined);
    });
    flushProse();
  }
  return commands;
}
