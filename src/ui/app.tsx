/**
 * The full-screen run: renders the engine's state and the request it waits on, and turns keys
 * (through the pure keymap) into answers and session actions. No run logic lives here.
 */
import { Box, measureElement, useInput, useStdout, type DOMElement } from 'ink';
import { Text } from './text.js';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { nextEffect, rollbackOffered } from '../core/machine.js';
import type { OperatorAnswer, OperatorRequest } from '../core/ports.js';
import type { Run } from '../core/runner.js';
import { Banner, bannerExtraRows } from './banner.js';
import { keyToAction, type Screen } from './keymap.js';
import { parseWhen } from '../core/when.js';
import { AskPanel, ChecklistKeys, ConfirmPanel, DecidePanel, GoPanel, HelpOverlay, MilestoneOverlay, quitWords, TextOverlay, YesNoOverlay } from './panels.js';
import { PhaseList, stepMark } from './phase-list.js';
import { listHeight, listWidth } from './phase-window.js';
import { OUTPUT_LINES, PREVIOUS_MAX_ROWS, PreviousStep, StepView, tail } from './step-view.js';
import { ResultsOverlay } from './results-overlay.js';
import { endedSteps, lastEnded, stepResult } from './step-result.js';
import { fitScreen, type Measured } from './screen-fit.js';
import { useColor } from './theme.js';

/** Connects the engine's operator requests to the screen. */
export class InkBridge {
  private pendingValue: { req: OperatorRequest; resolve: (a: OperatorAnswer) => void } | undefined;
  private readonly listeners = new Set<() => void>();
  private version = 0;

  request = (req: OperatorRequest): Promise<OperatorAnswer> =>
    new Promise((resolve) => {
      this.pendingValue = { req, resolve };
      this.bump();
    });

  get pending(): OperatorRequest | undefined {
    return this.pendingValue?.req;
  }

  answer(a: OperatorAnswer): void {
    const p = this.pendingValue;
    this.pendingValue = undefined;
    this.bump();
    p?.resolve(a);
  }

  bump = (): void => {
    this.version++;
    for (const l of this.listeners) l();
  };

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  snapshot = (): number => this.version;
}

type Overlay =
  | { kind: 'none' }
  | { kind: 'note' }
  | { kind: 'reason'; for: 'skip' | 'override' | 'mark-done' }
  | { kind: 'quit' }
  | { kind: 'rollback' }
  | { kind: 'help' }
  | { kind: 'milestone' }
  | { kind: 'milestone-time'; name: 'mitigated' | 'resolved' }
  /** The review of an earlier step's result; offset: the first body row shown (undefined: where it opens). */
  | { kind: 'results'; step: string; offset: number | undefined };

const REASON_TITLE = { skip: 'Why skip this step?', override: 'Why count this failed check as passed?', 'mark-done': 'Why mark this step done?' } as const;

/** The terminal's height and width, kept up to date when it is resized (24×80 when unknown; known: the height is the terminal's). */
function useTerminalSize(fixed: number | undefined): { rows: number; columns: number; known: boolean } {
  const { stdout } = useStdout();
  const measure = () => ({ rows: fixed ?? (stdout.rows || 24), columns: stdout.columns || 80, known: fixed !== undefined || stdout.rows > 0 });
  const [size, setSize] = useState(measure);
  useEffect(() => {
    const onResize = () => setSize(measure());
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout, fixed]);
  return size;
}

export { listWidth };

export function App({ run, bridge, interrupt, now, rows: fixedRows }: { run: Run; bridge: InkBridge; interrupt: () => void; now?: () => number; rows?: number }) {
  const c = useColor();
  const { rows, columns, known } = useTerminalSize(fixedRows);
  useSyncExternalStore(bridge.subscribe, bridge.snapshot);
  const state = run.state;
  const pending = bridge.pending;
  // UI state lives in a ref: keys that arrive faster than React re-renders must see the latest values.
  const ui = useRef<{ overlay: Overlay; typed: string; cursor: number; message: string | undefined }>({ overlay: { kind: 'none' }, typed: '', cursor: 0, message: undefined });
  const [, rerender] = useState(0);
  const set = (patch: Partial<typeof ui.current>) => {
    ui.current = { ...ui.current, ...patch };
    rerender((n) => n + 1);
  };
  const setOverlay = (overlay: Overlay) => set({ overlay });
  const setTyped = (f: string | ((t: string) => string)) => set({ typed: typeof f === 'function' ? f(ui.current.typed) : f });
  const setCursor = (f: number | ((n: number) => number)) => set({ cursor: typeof f === 'function' ? f(ui.current.cursor) : f });
  const setMessage = (message: string | undefined) => set({ message });

  const screenOf = (): Screen => {
    const overlay = ui.current.overlay;
    const pending = bridge.pending;
    return overlay.kind === 'note' || overlay.kind === 'reason' || overlay.kind === 'milestone-time' ? { kind: 'overlay-text' }
      : overlay.kind === 'quit' || overlay.kind === 'rollback' ? { kind: 'overlay-quit' }
        : overlay.kind === 'help' ? { kind: 'overlay-help' }
          : overlay.kind === 'milestone' ? { kind: 'overlay-milestone' }
            : overlay.kind === 'results' ? { kind: 'overlay-results' }
            : run.state.status === 'finished' ? { kind: 'finished' }
              : pending?.kind === 'go' ? { kind: 'go' }
                : pending?.kind === 'confirm' ? { kind: 'confirm' }
                  : pending?.kind === 'ask' ? { kind: 'ask' }
                    : pending?.kind === 'checklist' ? { kind: 'checklist', items: pending.items.length }
                      : pending?.kind === 'decide' ? { kind: 'decide', options: pending.options }
                        : { kind: 'busy' };
  };

  const titleOf = useCallback((id: string) => run.title(id), [run]);
  const effect = nextEffect(state);
  const step = 'step' in effect ? effect.step : undefined;
  const st = step ? state.steps[step.id] : undefined;
  const finished = state.status === 'finished';
  // A drill's tools are recorded right after it starts.
  const tools = run.events.slice(0, 16).flatMap((e) => (e.type === 'rehearsal.tool' ? [e] : []));
  const project = run.events.slice(0, 16).find((e) => e.type === 'rehearsal.project');
  /** In a drill, the runbook to rehearse again (a drill is never resumed). */
  const drill = run.ctx.mode === 'rehearsal' ? run.ctx.runbook.id : undefined;
  // "stopping…" is stale once the run asks the next thing (the stopped step's failure menu).
  if (ui.current.message === 'stopping…' && pending) ui.current = { ...ui.current, message: undefined };
  const { overlay, typed, cursor, message } = ui.current;
  const previous = lastEnded(run.events, step?.id);
  const reviewable = previous !== undefined || lastEnded(run.events, undefined) !== undefined;

  // The screen never grows past the terminal (less one row): the banner on top, then the phase list
  // and the step, then the keys and questions. When they do not fit, the previous step's result
  // gives way first (clipped in the same frame, then trimmed to the rows it has), then the step's
  // notes, then a running command's output: nothing pushes the banner off the screen. The gate
  // alone takes what it needs: it is never cut.
  const bannerBox = useRef<DOMElement>(null);
  const stepBox = useRef<DOMElement>(null);
  const panelBox = useRef<DOMElement>(null);
  const screenKind = screenOf().kind;
  const notesBox = useRef<DOMElement>(null);
  const [measured, setMeasured] = useState<Measured | undefined>(undefined);
  // What this frame draws of the notes and the output, measured with it (to tell the whole step's height).
  const drawn = useRef({ notesShown: -1, outputShown: 0 });
  useEffect(() => {
    // While the gate, the help or the review is open the step is not drawn: keep what it measured.
    if (!bannerBox.current || !stepBox.current || !panelBox.current) return;
    const m: Measured = {
      banner: measureElement(bannerBox.current).height,
      step: measureElement(stepBox.current).height,
      panel: measureElement(panelBox.current).height,
      notes: notesBox.current ? measureElement(notesBox.current).height : 0,
      ...drawn.current,
    };
    if (!measured || (Object.keys(m) as Array<keyof Measured>).some((k) => m[k] !== measured[k])) setMeasured(m);
  });
  const fit = known && pending?.kind !== 'confirm';
  const bannerRows = measured?.banner ?? 4 + Math.max(1, state.targets.length) + bannerExtraRows(columns, state.targets, tools) + (project ? 1 : 0);
  const bodyWidth = columns - listWidth(columns);
  // Below the panel: the message line and the last note.
  const reserved = 1 + (state.notes.length ? 1 : 0);
  const outputNatural = st?.output ? Math.min(OUTPUT_LINES, tail(st.output, OUTPUT_LINES).length) : 0;
  const { previousRows, notesRows, outputLines } = fit && measured
    ? fitScreen(measured, rows, (message ? 1 : 0) + (state.notes.length ? 1 : 0), outputNatural, OUTPUT_LINES)
    : { previousRows: PREVIOUS_MAX_ROWS, notesRows: undefined, outputLines: OUTPUT_LINES };
  drawn.current = { notesShown: notesRows !== undefined ? notesRows + 1 : -1, outputShown: Math.min(outputLines, outputNatural) };
  // The phase list's height as the static first frame has it, less what the banner and the panel take beyond that.
  const panelRows = measured?.panel ?? 2;
  const phaseRows = listHeight(rows, state.targets.length, Math.max(0, bannerRows + panelRows + reserved - (4 + Math.max(1, state.targets.length) + 2)));

  // The review (v): the step's result across the width, a window of its rows.
  const reviewWidth = Math.max(20, columns - 4);
  const reviewOf = (id: string) => {
    const ps = run.plan.steps[id]!;
    return stepResult(ps, run.state.steps[id]!, { width: reviewWidth, title: run.title(id), tableRows: Number.MAX_SAFE_INTEGER, items: (ps.step.checklist ?? []).map((t) => run.text(t)), preview: run.preview(ps), ...(ps.step.notes ? { notes: run.text(ps.step.notes) } : {}) });
  };
  /** What v reviews: the steps that ended, then the step the run is at. */
  const reviewSteps = () => {
    const at = nextEffect(run.state);
    return endedSteps(run.events, 'step' in at ? at.step.id : undefined);
  };
  const reviewHeight = (head: number) => Math.max(3, rows - bannerRows - reserved - 4 - head);
  const helpOpen = overlay.kind === 'help';

  const close = () => {
    setOverlay({ kind: 'none' });
    setTyped('');
  };

  useInput((input, key) => {
    const screen = screenOf();
    const { overlay, typed, cursor } = ui.current;
    const pending = bridge.pending;
    const effectNow = nextEffect(run.state);
    const st = 'step' in effectNow ? run.state.steps[effectNow.step.id] : undefined;
    let action = keyToAction(screen, input, key);
    let text = typed;
    if (action.type === 'type-submit') {
      text = typed + action.text;
      action = { type: 'submit' };
    }
    if (action.type !== 'none') setMessage(undefined);
    switch (action.type) {
      case 'none':
        return;
      case 'interrupt':
        run.cancel();
        setMessage('stopping…');
        return;
      case 'type':
        setTyped((t) => t + input.replace(/[\r\n]/g, ''));
        return;
      case 'erase':
        setTyped((t) => t.slice(0, -1));
        return;
      case 'help':
        setOverlay({ kind: 'help' });
        return;
      case 'note':
        setTyped('');
        setOverlay({ kind: 'note' });
        return;
      case 'milestone':
        setOverlay({ kind: 'milestone' });
        return;
      case 'results': {
        const ended = reviewSteps();
        if (!ended.length) return;
        // The step that ended last (the one before the current), else the current one.
        const current = 'step' in effectNow ? effectNow.step.id : undefined;
        setOverlay({ kind: 'results', step: ended.length > 1 && ended[ended.length - 1] === current ? ended[ended.length - 2]! : ended[ended.length - 1]!, offset: undefined });
        return;
      }
      case 'results-step': {
        if (overlay.kind !== 'results') return;
        const ended = reviewSteps();
        const at = ended.indexOf(overlay.step) + action.by;
        if (at < 0 || at >= ended.length) {
          setMessage(at < 0 ? 'this is the first step run' : 'this is the step the run is at');
          return;
        }
        setOverlay({ kind: 'results', step: ended[at]!, offset: undefined });
        return;
      }
      case 'results-scroll': {
        if (overlay.kind !== 'results') return;
        const r = reviewOf(overlay.step);
        const height = reviewHeight(r.head.length);
        const max = Math.max(0, r.body.length - height);
        const from = overlay.offset ?? (r.outputFrom !== undefined ? max : 0);
        setOverlay({ kind: 'results', step: overlay.step, offset: Math.max(0, Math.min(max, from + action.by * (action.unit === 'page' ? Math.max(1, height - 1) : 1))) });
        return;
      }
      case 'milestone-pick':
        set({ overlay: { kind: 'milestone-time', name: action.name }, typed: '' });
        return;
      case 'quit-ask':
        setOverlay({ kind: 'quit' });
        return;
      case 'quit-yes':
        close();
        if (overlay.kind === 'rollback') {
          bridge.answer({ kind: 'rollback' });
          return;
        }
        if (bridge.pending) bridge.answer({ kind: 'quit' });
        else interrupt();
        return;
      case 'cancel':
        if (screen.kind === 'confirm') {
          bridge.answer({ kind: 'typed', text: '' });
          setTyped('');
          return;
        }
        close();
        return;
      case 'submit':
        if (overlay.kind === 'note') {
          if (text.trim()) {
            run.note(text);
            setMessage('note recorded');
          }
          close();
          return;
        }
        if (overlay.kind === 'milestone-time') {
          const at = parseWhen(text, run.ports.clock.now());
          if (!at) {
            setMessage('when: Enter for now, HH:MM (UTC), "15m ago", or an ISO time in the past');
            return;
          }
          run.milestone(overlay.name, at);
          close();
          setMessage(`milestone recorded: ${overlay.name} at ${at.toISOString().slice(11, 16)} UTC`);
          return;
        }
        if (overlay.kind === 'reason') {
          if (!text.trim()) {
            setMessage('a reason is required: it goes into the transcript');
            return;
          }
          const reason = text.trim();
          close();
          bridge.answer(overlay.for === 'skip' ? { kind: 'skip', reason } : overlay.for === 'override' ? { kind: 'override', reason } : { kind: 'mark-done', reason });
          return;
        }
        if (pending?.kind === 'confirm') {
          setTyped('');
          bridge.answer({ kind: 'typed', text });
          return;
        }
        if (pending?.kind === 'ask') {
          setTyped('');
          bridge.answer({ kind: 'value', value: text });
          return;
        }
        if (pending?.kind === 'checklist' && st) {
          if (st.ticks.every(Boolean)) {
            setCursor(0);
            bridge.answer({ kind: 'done' });
          } else setMessage('tick every item (Space), or s to skip the checklist with a reason');
        }
        return;
      case 'go':
        bridge.answer({ kind: 'go' });
        return;
      case 'move':
        setCursor((n) => {
          const size = screen.kind === 'checklist' ? screen.items : screen.kind === 'decide' ? screen.options.length : 1;
          return Math.max(0, Math.min(size - 1, n + action.by));
        });
        return;
      case 'toggle':
        if (pending?.kind === 'checklist' && st) run.tick(pending.step.id, cursor, !st.ticks[cursor]);
        return;
      case 'skip':
        setTyped('');
        setOverlay({ kind: 'reason', for: 'skip' });
        return;
      case 'rollback':
        if (pending?.kind === 'go' ? !pending.canRollBack : !rollbackOffered(run.state)) {
          setMessage('no rollback available here');
          return;
        }
        setOverlay({ kind: 'rollback' });
        return;
      case 'rerun':
        if (pending?.kind === 'decide' && pending.options.includes('retry')) {
          setCursor(0);
          bridge.answer({ kind: 'retry' });
        }
        return;
      case 'choose':
      case 'choose-selected': {
        if (pending?.kind !== 'decide') return;
        const option = action.type === 'choose' ? action.option : pending.options[cursor];
        setCursor(0);
        if (option === 'skip' || option === 'override' || option === 'mark-done') {
          setTyped('');
          setOverlay({ kind: 'reason', for: option });
          return;
        }
        if (option === 'quit') {
          setOverlay({ kind: 'quit' });
          return;
        }
        if (option === 'rollback') bridge.answer({ kind: 'rollback' });
        if (option === 'retry') bridge.answer({ kind: 'retry' });
        return;
      }
    }
  });

  // Between the banner and the panel: its own height, less when the terminal has not that much (then clipped).
  const middle = { flexShrink: 1, overflow: 'hidden' as const };
  return (
    <Box flexDirection="column" {...(fit ? { height: rows - 1 } : {})}>
      <Box ref={bannerBox} flexDirection="column" flexShrink={0}>
        <Banner
          title={run.ctx.runbook.title}
          mode={run.ctx.mode}
          targets={state.targets}
          startedAt={state.startedAt}
          operator={state.operator}
          rollingBack={state.status === 'rolling-back'}
          {...(now ? { now } : {})}
          tools={tools}
          project={project}
        />
      </Box>
      {overlay.kind === 'results' ? (
        // The review takes the place of the phase list and the step: the banner stays above it.
        <Box {...middle} flexDirection="column">
          {(() => {
            const ended = reviewSteps();
            const r = reviewOf(overlay.step);
            const height = reviewHeight(r.head.length);
            const max = Math.max(0, r.body.length - height);
            const offset = Math.min(max, overlay.offset ?? (r.outputFrom !== undefined ? max : 0));
            return <ResultsOverlay head={r.head} body={r.body} position={ended.indexOf(overlay.step) + 1} total={ended.length} offset={offset} height={height} />;
          })()}
        </Box>
      ) : helpOpen ? (
        <Box {...middle} flexDirection="column">
          <HelpOverlay drill={drill} />
        </Box>
      ) : pending?.kind === 'confirm' ? (
        // The gate takes the whole width: it repeats the exact command, so the step's notes and
        // preview fold away, and the banner (the target in words) stays on screen above it.
        <Box flexDirection="column" flexShrink={0}>
          <Text bold wrap="truncate-end">
            {stepMark(state.steps[pending.step.id]!)} {run.title(pending.step.id)} <Text dimColor>· {pending.step.id} · phase {run.plan.phases.findIndex((p) => p.id === pending.step.phase.id) + 1}/{run.plan.phases.length}: {pending.step.phase.title}</Text>
          </Text>
          <ConfirmPanel req={pending} typed={typed} environment={pending.environment} />
        </Box>
      ) : (
        <>
          <Box {...middle}>
            <Box flexShrink={0}>
              <PhaseList state={state} current={step?.id} title={titleOf} height={phaseRows} width={listWidth(columns)} />
            </Box>
            <Box flexDirection="column" flexGrow={1}>
              {previous ? (
                <Box flexDirection="column" flexShrink={1} overflow="hidden">
                  <Box flexDirection="column" flexShrink={0}>
                    <PreviousStep run={run} id={previous} width={bodyWidth} rows={previousRows} />
                  </Box>
                </Box>
              ) : null}
              <Box ref={stepBox} flexDirection="column" flexShrink={0}>
                {step && st ? <StepView step={step} title={run.title(step.id)} st={st} preview={run.preview(step)} cursor={cursor} busy={screenKind === 'busy'} fill={(t) => run.text(t)} width={bodyWidth} notesRows={notesRows} outputLines={outputLines} notesRef={notesBox} /> : null}
                {finished ? (
                  <Text bold color={c(state.outcome === 'completed' ? 'green' : 'red')}>
                    Run {state.outcome}
                    {state.finishReason ? `: ${state.finishReason}` : ''}
                  </Text>
                ) : null}
              </Box>
            </Box>
          </Box>
          {/* What the run waits for, and the overlays that ask something, across the whole width at the bottom. */}
          <Box ref={panelBox} flexDirection="column" flexShrink={0}>
            {overlay.kind === 'none' && pending?.kind === 'go' ? <GoPanel req={pending} drill={drill} review={reviewable} /> : null}
            {pending?.kind === 'ask' ? <AskPanel req={pending} typed={typed} /> : null}
            {overlay.kind === 'none' && pending?.kind === 'decide' ? <DecidePanel req={pending} cursor={cursor} drill={drill} /> : null}
            {overlay.kind === 'none' && pending?.kind === 'checklist' ? <ChecklistKeys rollback={rollbackOffered(state)} drill={drill} review={reviewable} /> : null}
            {overlay.kind === 'note' ? <TextOverlay title="Note for the transcript:" typed={typed} /> : null}
            {overlay.kind === 'reason' ? <TextOverlay title={REASON_TITLE[overlay.for]} typed={typed} /> : null}
            {overlay.kind === 'quit' ? <YesNoOverlay text={quitWords(drill).ask} /> : null}
            {overlay.kind === 'rollback' ? (
              <YesNoOverlay
                text={
                  run.ctx.mode === 'rehearsal'
                    ? 'Rehearse the rollback from here? The rollback steps of what was done run, newest first, then the drill database is compared with its state before the first step.'
                    : 'Start rollback now? Each rollback step still asks before it runs.'
                }
              />
            ) : null}
            {overlay.kind === 'milestone' ? <MilestoneOverlay /> : null}
            {overlay.kind === 'milestone-time' ? <TextOverlay title={`When was it ${overlay.name}? Enter = now, or HH:MM (UTC), or "15m ago":`} typed={typed} /> : null}
          </Box>
        </>
      )}
      {message ? (
        <Box flexShrink={0}>
          <Text color={c('yellow')}>{message}</Text>
        </Box>
      ) : null}
      {state.notes.length ? (
        <Box flexShrink={0}>
          <Text dimColor wrap="truncate-end">last note: {state.notes[state.notes.length - 1]!.text}</Text>
        </Box>
      ) : null}
    </Box>
  );
}
