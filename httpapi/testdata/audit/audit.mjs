// Runs every graphql-http server audit against LINLI_URL and prints one
// JSON line per audit, then a summary line (read by graph/audit_test.go).
import { serverAudits } from 'graphql-http';

const url = process.env.LINLI_URL;
if (!url) {
  console.error('LINLI_URL is not set');
  process.exit(2);
}

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  counts[result.status]++;
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    line.reason = result.reason;
    line.httpStatus = result.response.status;
    line.contentType = result.response.headers.get('content-type');
    try {
      line.body = (await result.response.text()).slice(0, 500);
    } catch {
      // the audit read the body already
    }
  }
  console.log(JSON.stringify(line));
}
console.log(JSON.stringify({ summary: counts }));
