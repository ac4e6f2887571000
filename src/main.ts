/** Entry point of the bundle (dist/main.cjs, started by bin/drillbook.js): run the CLI with this process's arguments. */
import { main } from './cli.js';

void main(process.argv);
