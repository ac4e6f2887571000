/** Step notes: the little Markdown runbooks use (paragraphs, lists, `code`, **bold**), as terminal text. */
import { Text } from './text.js';
import { useColor } from './theme.js';

function Inline({ text }: { text: string }) {
  const c = useColor();
  const parts = text.split(/(`[^`]+`|\*\*[^*]+\*\*)/g).filter(Boolean);
  return (
    <Text>
      {parts.map((p, i) =>
        p.startsWith('`') ? (
          <Text key={i} color={c('cyan')}>{p.slice(1, -1)}</Text>
        ) : p.startsWith('**') ? (
          <Text key={i} bold>{p.slice(2, -2)}</Text>
        ) : (
          <Text key={i}>{p}</Text>
        ),
      )}
    </Text>
  );
}

export function Markdown({ text }: { text: string }) {
  const paragraphs = text.trim().split(/\n\s*\n/);
  return (
    <>
      {paragraphs.map((para, i) => {
        const lines = para.split('\n');
        const isList = lines.every((l) => /^\s*([-*]|\d+\.)\s/.test(l));
        if (isList) return lines.map((l, j) => <Inline key={`${i}-${j}`} text={`  • ${l.replace(/^\s*([-*]|\d+\.)\s/, '')}`} />);
        return <Inline key={i} text={lines.join(' ')} />;
      })}
    </>
  );
}
