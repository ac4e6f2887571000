// Refreshes the literal `--help` of each command in README.md (between <!-- help:CMD --> markers),
// and, given --bench, the performance table from bench/results.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const bin = `${root}bin/drillbook.js`;
let readme = readFileSync(`${root}README.md`, 'utf8');

export function helpOf(cmd) {
  const args = cmd ? [cmd, '--help'] : ['--help'];
  return execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
}

readme = readme.replace(/<!-- help:(\w*) -->\n[\s\S]*?<!-- \/help -->/g, (_m, cmd) => {
  const title = cmd ? `### drillbook ${cmd}\n\n` : '';
  return `<!-- help:${cmd} -->\n${title}\`\`\`text\n${helpOf(cmd).trimEnd()}\n\`\`\`\n<!-- /help -->`;
});

if (existsSync(`${root}bench/results.md`)) {
  readme = readme.replace(/<!-- bench -->\n[\s\S]*?<!-- \/bench -->/, `<!-- bench -->\n${readFileSync(`${root}bench/results.md`, 'utf8').trim()}\n<!-- /bench -->`);
}
writeFileSync(`${root}README.md`, readme);
