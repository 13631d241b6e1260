// The facecast command line.
import { Command, Option } from 'commander';
import { serve } from './serve.ts';
import { renderCommand } from './render.ts';
import { enrollCommand } from './enroll.ts';

const program = new Command('facecast').description('Real-time streaming avatar server').showHelpAfterError();

program
  .command('serve')
  .description('start the server with the built-in avatar and print the demo page URL')
  .addOption(new Option('--host <ip>', 'address to listen on (HTTP and WebRTC)').env('FACECAST_HOST'))
  .addOption(new Option('--port <n>', 'HTTP port (0 = any free port)').env('FACECAST_PORT'))
  .addOption(new Option('--rtc-announced-ip <ip>', 'IP announced in ICE candidates (when listening on 0.0.0.0)'))
  .addOption(new Option('--output-delay-ms <ms>', 'audio in -> audio and video out; covers look-ahead, render and encode'))
  .addOption(new Option('--video-kbps <n>', 'VP8 bitrate'))
  .addOption(new Option('--video-playout-delay-max-ms <ms>', "most smoothing delay viewers' browsers may add to the video (0: none, -1: their choice)"))
  .addOption(new Option('--avatar <file>', 'portrait of the built-in avatar'))
  .addOption(new Option('--max-sessions <n>', 'hard limit on sessions (503 session-limit beyond)'))
  .addOption(new Option('--capacity <n|auto>', "sessions served in real time (503 at-capacity beyond); 'auto' measures it"))
  .addOption(new Option('--workers <n>', 'mediasoup worker processes (default: one per core)'))
  .addOption(new Option('--head-rate <rate>', "head and torso layers every frame ('full') or every other frame ('half')").choices(['full', 'half']))
  .addOption(new Option('--degrade <mode>', "step down under load ('auto') or never ('off')").choices(['auto', 'off']))
  .action(async (o: Record<string, string | undefined>) => {
    try {
      await serve({
        host: o.host,
        port: o.port as unknown as number,
        rtcListenIp: o.host,
        rtcAnnouncedIp: o.rtcAnnouncedIp,
        outputDelayMs: o.outputDelayMs as unknown as number,
        videoKbps: o.videoKbps as unknown as number,
        videoPlayoutDelayMaxMs: o.videoPlayoutDelayMaxMs as unknown as number,
        defaultAvatar: o.avatar,
        maxSessions: o.maxSessions as unknown as number,
        capacity: o.capacity as unknown as number,
        workers: o.workers as unknown as number,
        headRate: o.headRate as 'full' | 'half' | undefined,
        degrade: o.degrade as 'auto' | 'off' | undefined,
      });
    } catch (err) {
      process.stderr.write(`facecast: ${(err as Error).message}\n`);
      process.exit(1);
    }
  });

program
  .command('render')
  .description('render an avatar video file offline from a portrait and an audio file')
  .requiredOption('--avatar <image>', 'portrait (JPEG, PNG or WebP)')
  .requiredOption('--audio <file>', 'speech audio (any format ffmpeg reads)')
  .requiredOption('--out <file.mp4>', 'output MP4')
  .option('--text <text>', 'transcript of the audio: the director reads it and visemes sharpen the mouth (p/b/m close the lips)')
  .option('--instruction <text...>', 'directions for the avatar ("nod when you agree", "do not look away")')
  .option('--trace <file.json>', "write the director's rounds (proposals, merge, critiques, plan)")
  .option('--no-progress', 'no progress bar')
  .action(async (o: { avatar: string; audio: string; out: string; progress: boolean; text?: string; instruction?: string[]; trace?: string }) => {
    try {
      await renderCommand(o);
    } catch (err) {
      process.stderr.write(`facecast: ${(err as Error).message}\n`);
      process.exit(1);
    }
  });

program
  .command('enroll')
  .description('enroll a portrait as an avatar (prints its id); a server using the same FACECAST_AVATAR_CACHE lists it')
  .argument('<image>', 'portrait (JPEG, PNG or WebP)')
  .option('--face <n>', 'which face when the picture has several, numbered left to right from 0')
  .option('--name <name>', 'name shown in listings (default: the file name)')
  .option('--json', 'print the whole avatar record as JSON instead of the id')
  .option('--no-progress', 'no progress bar')
  .action(async (image: string, o: { face?: string; name?: string; json?: boolean; progress: boolean }) => {
    try {
      await enrollCommand({ image, ...o });
    } catch (err) {
      process.stderr.write(`facecast: ${(err as Error).message}\n`);
      process.exit(1);
    }
  });

await program.parseAsync(process.argv);
