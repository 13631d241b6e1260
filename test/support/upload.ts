// Streams a large request body in 1 MiB chunks until the server answers (or `size` bytes are sent), so a test can
// tell how much the server read before refusing an oversized upload. Bounded by `size`.
import { request, type OutgoingHttpHeaders } from 'node:http';

export function uploadUntilAnswered(url: string, headers: OutgoingHttpHeaders, size: number, fill: number): Promise<{ status: number; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let answered = false;
    const req = request(url, { method: 'POST', headers }, (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, sentBytes });
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const chunk = Buffer.alloc(1 << 20, fill);
    const pump = () => {
      while (!answered && sentBytes < size) {
        sentBytes += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}
