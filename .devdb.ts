import { startDrillDatabase } from './src/adapters/drill-db.js';
const db = await startDrillDatabase({ keep: false });
await db.createDatabase('app');
console.log(db.url('app'));
process.on('SIGTERM', async () => { await db.stop(); process.exit(0); });
setInterval(() => {}, 1 << 30);
