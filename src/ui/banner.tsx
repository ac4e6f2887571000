/** The permanent banner: what the run is pointed at, in words (colour only helps), never a password. */
import { Box } from 'ink';
import { Text } from './text.js';
import { useEffect, useState } from 'react';
import type { Mode, RunEvent, TargetInfo } from '../core/events.js';
import { shownHost } from '../core/target.js';
import { wrap } from './first-frame.js';
import { useColor } from './theme.js';
import { standInNotes, toolsLine, type ToolUse } from './tools-line.js';
import { ENV_COLOR, ENV_WORD } from './environment.js';


export function Elapsed({ since, now }: { since: string | undefined; now?: () => number }) {
  const clock = now ?? Date.now;
  const [t, setT] = useState(clock());
  useEffect(() => {
    const timer = setInterval(() => setT(clock()), 1000);
    return () => clearInterval(timer);
  }, [clock]);
  if (!since) return <Text>00:00</Text>;
  const s = Math.max(0, Math.floor((t - Date.parse(since)) / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return <Text>{hh ? `${hh}:` : ''}{mm}:{ss}</Text>;
}

export function Banner(props: { title: string; mode: Mode; targets: TargetInfo[]; startedAt: string | undefined; operator: string | undefined; rollingBack: boolean; now?: () => number; tools?: readonly ToolUse[]; project?: { type: string } | undefined }) {
  const project = props.project?.type === 'rehearsal.project' ? (props.project as Extract<RunEvent, { type: 'rehearsal.project' }>) : undefined;
  const c = useColor();
  const modeWord = props.mode === 'rehearsal' ? 'REHEARSAL' : props.mode === 'dry-run' ? 'DRY RUN (read-only checks only)' : 'INCIDENT';
  return (
    <Box flexDirection="column" borderStyle="single" paddingX={1}>
      <Box justifyContent="space-between">
        <Box flexShrink={1}>
          <Text bold wrap="truncate-end">
            <Text color={c(props.mode === 'incident' ? 'red' : 'blue')}>{modeWord}</Text>
            {props.rollingBack ? <Text color={c('magenta')}> · ROLLING BACK</Text> : null} · {props.title}
          </Text>
        </Box>
        <Box flexShrink={0} marginLeft={1}>
          <Text>
            {props.operator ? `${props.operator} · ` : ''}
            <Elapsed since={props.startedAt} {...(props.now ? { now: props.now } : {})} />
          </Text>
        </Box>
      </Box>
      {props.targets.length === 0 ? <Text>no database target</Text> : null}
      {props.targets.map((t) => (
        <Text key={t.name} wrap="truncate-end">
          <Text bold inverse={Boolean(c('x'))} color={c(ENV_COLOR[t.environment] ?? 'white')}>
            {` ${ENV_WORD[t.environment] ?? t.environment} `}
          </Text>
          {` ${t.name}: ${t.user ? `${t.user}@` : ''}${shownHost(t)}:${t.port}/${t.database}`}
          {t.identified === false ? ' (not yet confirmed by the server)' : ''}
          {t.serverVersion ? ` · PostgreSQL ${t.serverVersion}` : ''}
          {t.systemIdentifier ? ` · cluster ${t.systemIdentifier}` : ''}
          {t.inRecovery ? ' · REPLICA' : ''}
          {t.unreachable ? <Text color={c('red')}> · UNREACHABLE</Text> : null}
        </Text>
      ))}
      {props.targets.flatMap((t) => t.discrepancies ?? []).map((d, i) => (
        <Text key={`d${i}`} wrap="wrap" color={c('yellow')}>
          ! {d}
        </Text>
      ))}
      {project ? (
        <Text wrap="truncate-end">
          {`${project.fixture ? 'fixture' : 'project'}: ${project.project} (${project.tool}, ${project.migrations.length + (project.omitted ?? 0)} migrations in ${project.migrationsDir}) · a scratch copy: the ${project.fixture ? 'fixture' : 'project'} is never written`}
        </Text>
      ) : null}
      {props.tools?.length ? <Text wrap="wrap">{toolsLine(props.tools)}</Text> : null}
      {standInNotes(props.tools ?? []).map((n, i) => (
        <Text key={`t${i}`} wrap="wrap" color={c('yellow')}>
          {'  '}
          {n}
        </Text>
      ))}
    </Box>
  );
}

/**
 * The banner's rows beyond the ones listHeight counts (its border, title, a line per target and
 * one more, the tools line's): the tools line's second row if it wraps, why the stand-ins stand
 * in, and what the URL and the server disagree on, each wrapped at the banner's width.
 */
export function bannerExtraRows(columns: number, targets: readonly TargetInfo[], tools: readonly ToolUse[]): number {
  const inner = Math.max(1, columns - 4);
  const rowsOf = (text: string) => Math.max(1, wrap(text, inner).length);
  let n = tools.length ? rowsOf(toolsLine(tools)) - 1 : 0;
  for (const note of standInNotes(tools)) n += rowsOf(`  ${note}`);
  for (const d of targets.flatMap((t) => t.discrepancies ?? [])) n += rowsOf(`! ${d}`);
  return n;
}
