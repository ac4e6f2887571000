/** Colour only as a second signal, and none at all with NO_COLOR (chalk alone does not honour it). */
import { createContext, useContext } from 'react';

export interface Theme {
  color: boolean;
}

export const ThemeContext = createContext<Theme>({ color: true });

export function colorEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR === undefined || env.NO_COLOR === '';
}

/** A colour name, or undefined when colour is off. */
export function useColor(): (name: string) => string | undefined {
  const { color } = useContext(ThemeContext);
  return (name) => (color ? name : undefined);
}
