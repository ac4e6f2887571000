/** Entry point of the bundle: run the CLI with this process's arguments. */
import { main } from './cli.js';

await main(process.argv);
