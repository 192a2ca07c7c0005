/**
 * Every relative link of the README and the docs pages leads to a file that exists, and every `#anchor` to a
 * heading of its target, with the anchors GitHub derives from headings.
 */
import {
  anchorsOf,
  brokenLinks,
  brokenReason,
  headingSlug,
  isExternal,
  linksIn,
  markdownFiles,
  readRepoFile,
} from './markdown-links';

describe('links of the README and docs/', () => {
  test('are found: the README links the docs pages and its own sections', () => {
    const targets = linksIn('README.md', readRepoFile('README.md') ?? '').map((l) => l.target);
    expect(targets).toEqual(
      expect.arrayContaining(['docs/configuration.md', 'docs/deploy.md', '#monthly-cost-of-the-default-stage']),
    );
    expect(markdownFiles()).toEqual(expect.arrayContaining(['README.md', 'docs/deploy.md', 'docs/testing.md']));
  });

  test('every relative link leads to a file that exists and, with #anchor, to a heading of it', () => {
    expect(brokenLinks()).toEqual([]);
  });

  test('every docs page is linked from the README', () => {
    const targets = new Set(linksIn('README.md', readRepoFile('README.md') ?? '').map((l) => l.target.split('#')[0]));
    expect(markdownFiles().filter((f) => f !== 'README.md' && !targets.has(f))).toEqual([]);
  });
});

describe('the link check', () => {
  const pages: Record<string, string> = {
    'README.md': '# Title\n\n## Deploy\n\n### Deploy\n',
    'docs/a.md':
      "# A page\n\n## Kafka's first steps: `npm run kafka`\n\n## Teardown: what `cdk destroy --all` leaves\n",
  };
  const read = (file: string) => pages[file];
  const reason = (file: string, target: string) => brokenReason({ file, line: 1, target }, read);

  test.each([
    ["Kafka's first steps: `npm run kafka`", 'kafkas-first-steps-npm-run-kafka'],
    ['Teardown: what `cdk destroy --all` leaves', 'teardown-what-cdk-destroy---all-leaves'],
    ['Monthly cost of the default stage', 'monthly-cost-of-the-default-stage'],
    ['The smoke test: `npm run hello`', 'the-smoke-test-npm-run-hello'],
    ['Where [the tools](docs/kafka-tools.md) act', 'where-the-tools-act'],
    ['`snake_case` keys', 'snake_case-keys'],
  ])('gives the heading %j the anchor GitHub gives it, %j', (heading, slug) => {
    expect(headingSlug(heading)).toBe(slug);
  });

  test('numbers a repeated heading as GitHub does, and skips headings inside code', () => {
    expect([...anchorsOf('## Deploy\n```sh\n# not a heading\n```\n### Deploy\n## Deploy\n')]).toEqual([
      'deploy',
      'deploy-1',
      'deploy-2',
    ]);
  });

  test('accepts links that lead to a file and a heading', () => {
    expect(reason('README.md', 'docs/a.md')).toBeUndefined();
    expect(reason('README.md', 'docs/a.md#kafkas-first-steps-npm-run-kafka')).toBeUndefined();
    expect(reason('README.md', '#deploy-1')).toBeUndefined();
    expect(reason('docs/a.md', '../README.md#deploy')).toBeUndefined();
    expect(reason('docs/a.md', '#teardown-what-cdk-destroy---all-leaves')).toBeUndefined();
  });

  test('names a missing file, a missing heading and a link out of the repository', () => {
    expect(reason('README.md', 'docs/b.md')).toBe('docs/b.md does not exist');
    expect(reason('README.md', 'docs/a.md#teardown')).toBe('docs/a.md has no heading #teardown');
    expect(reason('docs/a.md', 'README.md')).toBe('docs/README.md does not exist');
    expect(reason('README.md', '#deploy-2')).toBe('README.md has no heading #deploy-2');
    expect(reason('docs/a.md', '../../x.md')).toBe('../x.md is outside the repository');
  });

  test('reads links over a line break and ignores code and web addresses', () => {
    const text =
      'See [the\nteardown](docs/a.md#teardown) and `[x](nowhere.md)`.\n```\n[y](nowhere.md)\n```\n[web](https://x.test)';
    const links = linksIn('README.md', text);
    expect(links.map((l) => [l.line, l.target])).toEqual([
      [1, 'docs/a.md#teardown'],
      [6, 'https://x.test'],
    ]);
    expect(links.filter((l) => !isExternal(l.target)).map((l) => l.target)).toEqual(['docs/a.md#teardown']);
  });
});
