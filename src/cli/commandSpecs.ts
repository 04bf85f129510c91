/**
 * Every storepulse command and every option it takes, with what the option does and its default.
 * The commands parse their arguments from these specs and `storepulse help` prints them (options.ts).
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../projectPaths.js';
import type { CommandSpec } from './options.js';

/** The sample footage Debian's opencv-doc package ships (deploy/setup.sh installs it). */
export const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const VTEST_SCENE = path.join(PROJECT_ROOT, 'config', 'scenes', 'vtest.yaml');

const MODEL = {
  name: 'model',
  value: 'NAME|PATH',
  description:
    'person detector: a shipped model name (see models/), a model manifest .json, or an .onnx file such as an official YOLOX export',
  defaultText: 'nanodet-m-416',
} as const;
const THREADS = { name: 'threads', value: 'N', description: "threads the detector's inference may use; store PCs have 2–4 cores", defaultText: '2' } as const;
const SCENE = {
  name: 'scene',
  value: 'SCENE.json|yaml',
  required: true,
  description: 'counting lines and zones in 0–1 image coordinates (example: config/scenes/vtest.yaml); an invalid scene is refused with every problem listed',
} as const;
const ANALYZE_FPS = { name: 'fps', value: 'N', description: 'resample the video to N frames per second before detecting', defaultText: 'every frame' } as const;
const ANALYZE_OUT = {
  name: 'out',
  value: 'DIR',
  description: 'also write events.jsonl, tracks.txt (MOT format) and heatmap.png / heatmap.json (a transparent overlay, no camera pixels) to DIR, created if missing',
} as const;
const ANALYZE_JSON = { name: 'json', description: 'print no events, only the summary as one JSON line (the last line of stdout)' } as const;
const ANALYZE_MAX_FRAMES = { name: 'max-frames', value: 'N', description: 'stop after N frames', defaultText: 'the whole video' } as const;

export const RUN = {
  name: 'run',
  summary: 'the live gateway daemon (API and web UI on :8080; --demo: the sample footage as a camera)',
  description:
    'Runs the gateway: cameras, counting, sensors, the HTTP API and web UI, upstream delivery. An invalid config starts it in safe mode (API up, cameras off, the problems in /api/status) instead of exiting. Saving the config file, SIGHUP or POST /api/config/reload reloads it; SIGTERM or SIGINT stops it cleanly.',
  options: [
    {
      name: 'config',
      value: 'FILE',
      description:
        'gateway config file (YAML; annotated example: config/gateway.example.yaml), reloaded when saved; not with --demo',
      defaultText: 'a built-in config: API on port 8080, no cameras, data under ./data',
    },
    {
      name: 'demo',
      description:
        'play the sample footage (vtest.avi) as a looping camera with the lines and zones of config/demo.yaml, from a copy in ./data/demo.yaml that keeps what you draw in the web UI (delete it to start over); not with --config',
    },
    { name: 'port', value: 'N', description: 'HTTP port of the API and web UI, instead of the one in the config; 0 picks a free port', defaultText: "the config's http.port, 8080 unless set" },
  ],
  examples: [
    { note: 'the demo, as `npm start` runs it; then open http://localhost:8080', command: 'storepulse run --demo' },
    { note: 'a store PC, as the systemd unit runs it', command: 'storepulse run --config /etc/storepulse/gateway.yaml' },
  ],
} as const satisfies CommandSpec;

export const DETECT = {
  name: 'detect',
  summary: 'person boxes per frame in an image, a video or a stream',
  description:
    'Runs the person detector on every frame and prints, per frame, how many people it found and how long it took, then a total; with --json one object per frame with the boxes in source pixels.',
  positionals: [
    {
      name: '<image|video>',
      description: 'an image (.png, .jpg, .webp, …), a video file, or a stream URL (rtsp://…, http://…) that ffmpeg can read',
    },
  ],
  options: [
    MODEL,
    { name: 'max-frames', value: 'N', description: 'stop after N frames of a video or stream', defaultText: 'all of them' },
    { name: 'json', description: 'one JSON object per frame instead of text: {"frame": n, "detections": [{"x1","y1","x2","y2","score"}]}' },
    { name: 'annotate', value: 'OUT.png', description: 'write the last frame with its boxes drawn to OUT.png' },
    THREADS,
    { name: 'score', value: '0..1', description: 'report only boxes scored at least this', defaultText: "the model manifest's scoreThreshold, 0.4 for nanodet-m-416" },
  ],
  examples: [
    { note: 'people in a photo, with the boxes drawn on a copy', command: 'storepulse detect shelf.jpg --annotate shelf-boxes.png' },
    { note: 'the first 50 frames of a camera, as JSON lines', command: 'storepulse detect rtsp://192.168.1.20:554/stream1 --max-frames 50 --json' },
  ],
} as const satisfies CommandSpec;

export const ANALYZE = {
  name: 'analyze',
  summary: 'people counting, zone visits and a heatmap over a video, offline',
  description:
    'Decodes the video, detects and tracks people, and counts line crossings (in/out), zone visits, dwell and occupancy, and builds a heatmap. Prints each event as it happens, then the summary.',
  options: [
    { name: 'source', value: 'FILE|URL', required: true, description: 'the video: a file or a URL ffmpeg can read (rtsp://…, http://…)' },
    SCENE,
    ANALYZE_FPS,
    MODEL,
    ANALYZE_OUT,
    ANALYZE_JSON,
    THREADS,
    ANALYZE_MAX_FRAMES,
  ],
  examples: [
    {
      note: 'the sample footage at 5 frames/s, with the events, tracks and heatmap in ./out',
      command: `storepulse analyze --source ${VTEST} --scene config/scenes/vtest.yaml --fps 5 --out out`,
    },
  ],
} as const satisfies CommandSpec;

/** `analyze` with the sample footage and its scene as defaults. */
export const DEMO = {
  name: 'demo',
  summary: 'count people on the sample footage (vtest.avi) with config/scenes/vtest.yaml',
  description:
    "storepulse analyze on the sample footage that Debian's opencv-doc package ships (deploy/setup.sh installs it), with its scene; the same options as analyze, with defaults.",
  options: [
    { name: 'source', value: 'FILE|URL', default: VTEST, description: 'the video: a file or a URL ffmpeg can read' },
    { ...SCENE, required: false, default: VTEST_SCENE },
    ANALYZE_FPS,
    MODEL,
    ANALYZE_OUT,
    ANALYZE_JSON,
    THREADS,
    { ...ANALYZE_MAX_FRAMES, default: '300' },
  ],
  examples: [
    { note: 'the events and summary of the first 300 frames', command: 'storepulse demo' },
    { note: 'the whole video, the summary as JSON and the heatmap in ./out', command: 'storepulse demo --max-frames 10000 --json --out out' },
  ],
} as const satisfies CommandSpec;

export const EVAL = {
  name: 'eval',
  summary: 'accuracy against MOT ground truth: AP50, MOTA, IDF1, line and zone errors',
  description:
    'Runs the detector once over an annotated recording and replays its detections through the same tracker and counters as analyze, then reports for the whole recording, its first half and its second half: detector AP50; tracking MOTA, IDF1, ID switches and fragmentations; and for every line and zone of the scene (and for seeded random ones over where the annotated people walk) the measured in/out, visits and dwell against the same figures computed from the annotations.',
  options: [
    { name: 'source', value: 'FILE', required: true, description: 'the annotated video (not needed with --load-detections)' },
    { name: 'gt', value: 'MOT.txt', required: true, description: 'ground truth in MOT Challenge format: frame,id,x,y,w,h,conf,… one box per line' },
    SCENE,
    {
      name: 'frame-offset',
      value: 'N',
      default: '1',
      description: 'the annotated frame number of video frame 0; MOT frame numbers start at 1',
    },
    { name: 'fps', value: 'N', description: 'resample the video to N frames per second before detecting; annotated frames are matched by time', defaultText: 'every frame' },
    MODEL,
    THREADS,
    {
      name: 'decode',
      value: 'gateway|full',
      description:
        "how frames reach the detector. full: every frame decoded at the video's size and resized for the detector (sharp, lanczos3), as analyze does. gateway: ffmpeg decodes at the detector's input size with the area scaler, exactly the pixels the gateway's cameras feed the detector; boxes are still reported in the video's pixels. Not with --load-detections (a recording keeps how it was decoded)",
      defaultText: 'full',
    },
    { name: 'random-lines', value: 'N', default: '20', description: 'seeded random counting lines scored besides the scene; 0: none' },
    { name: 'random-zones', value: 'N', default: '10', description: 'seeded random zones scored besides the scene; 0: none' },
    { name: 'seed', value: 'N', default: '1', description: 'seed of the random lines and zones, so that runs compare' },
    { name: 'save-detections', value: 'FILE', description: "write the detector's output to FILE (JSON), to score other scenes later without running the detector" },
    { name: 'load-detections', value: 'FILE', description: 'replay detections written by --save-detections instead of running the detector' },
    { name: 'json', description: 'print the whole report as one JSON line instead of the table' },
  ],
  examples: [
    {
      note: 'PETS09-S2L1 (the sample footage) against its annotations, keeping the detections',
      command: `storepulse eval --source ${VTEST} --gt gt.txt --scene config/scenes/vtest.yaml --save-detections det.json`,
    },
    {
      note: "the same, on the pixels the gateway feeds the detector (ffmpeg at the detector's input size)",
      command: `storepulse eval --source ${VTEST} --gt gt.txt --scene config/scenes/vtest.yaml --decode gateway --save-detections det-gateway.json`,
    },
    {
      note: 'another scene on the same detections, in seconds',
      command: 'storepulse eval --load-detections det.json --gt gt.txt --scene my-scene.yaml --json',
    },
  ],
} as const satisfies CommandSpec;

export const CENTRAL = {
  name: 'central',
  summary: "head office: ingest every gateway's upstream MQTT messages into PostgreSQL, exactly once; the fleet dashboard (--demo: all of it on this machine)",
  description:
    "Subscribes to every store's gateway messages with an MQTT 5 shared subscription (several workers with the same group split the load) and writes them to PostgreSQL in batches: events once per idempotency key, KPI bins replaced only by a higher revision (the per-store-hour rollup the fleet analytics read is kept in the same transaction), gateway status for the fleet view, schema-invalid messages into dead_letters. A message is acknowledged to the broker only after its transaction commits, so a worker that dies loses nothing: its messages are re-delivered when it restarts under the same client id. Migrates the database schema on start. With an `http` section in the config it also serves the fleet REST API (gateways, footfall–sales correlation, stores ranked by conversion) and the fleet dashboard at /fleet/. With --demo it needs no config: it starts a private PostgreSQL and mosquitto on this machine (temporary, removed on exit), a simulated fleet of gateways, the ingest and the dashboard, and prints the dashboard's URL. SIGTERM or SIGINT stops it cleanly.",
  options: [
    {
      name: 'config',
      value: 'FILE',
      description:
        'central config file (YAML; annotated example: config/central.example.yaml): broker URL, shared-subscription group and client id, PostgreSQL connection string, batch size, fleet API; not with --demo',
    },
    {
      name: 'demo',
      description:
        "everything on this machine, nothing to set up beyond deploy/central-setup.sh --demo: a private PostgreSQL (as the `postgres` user when run as root) and mosquitto on free local ports, a simulated fleet publishing like real gateways (one goes offline, one delivers 15 minutes late), the ingest, and the dashboard; prints the dashboard's URL with a fresh API token; not with --config",
    },
    { name: 'gateways', value: 'N', default: '20', description: 'with --demo: simulated gateways, one store each (1–500)' },
    { name: 'days', value: 'N', default: '7', description: "with --demo: days of hourly KPI bins each simulated gateway has already sent (0–90), so the dashboard's ranking and correlation have data at once" },
    { name: 'port', value: 'N', default: '8090', description: 'with --demo: port of the dashboard and fleet API on 127.0.0.1; 0 picks a free port' },
  ],
  examples: [
    { note: 'one ingest worker, as its systemd unit runs it', command: 'storepulse central --config /etc/storepulse/central.yaml' },
    { note: 'try it: 20 simulated stores, then open the printed URL', command: 'storepulse central --demo' },
    { note: 'a bigger simulated fleet with a month of history', command: 'storepulse central --demo --gateways 100 --days 30 --port 8091' },
  ],
} as const satisfies CommandSpec;

export const IMPACT = {
  name: 'impact',
  summary: "before/after impact of a change (display moved, promotion) on a zone's or a line's traffic, dwell and conversion",
  description:
    "Reads the hourly KPI bins of the gateway's SQLite file (read-only; computed from its events for days without stored bins) and compares the N weeks after the change with the N weeks before on matching weekdays and hours: traffic, mean dwell and visit rate of the subject and the store's conversion, each with a 95 % confidence interval from the day-to-day variation. With control zones or lines (of this store, or of another store's file with --control-db), the subject's change is measured relative to theirs (difference-in-differences), which takes out a trend or season they share. An interval that covers zero reads NO SIGNIFICANT CHANGE. Days without data, or not over yet, are left out and listed.",
  options: [
    { name: 'db', value: 'FILE', required: true, description: "the gateway's SQLite file (data_dir/storepulse.db), opened read-only" },
    { name: 'subject', value: 'SUBJECT', required: true, description: 'the zone or line the change was about: zone:NAME or line:NAME (zone:CAMERA/NAME for one camera\'s zone), or store' },
    { name: 'change', value: 'DATE', required: true, description: "when the change took effect, in the store's local time: YYYY-MM-DD or YYYY-MM-DDTHH:MM (minutes are dropped: bins are hourly)" },
    { name: 'weeks', value: 'N', default: '4', description: 'weeks compared on each side of the change (at most 13)' },
    { name: 'control', value: 'SUBJECT,...', description: 'zones or lines the change did not touch, summed into one control (e.g. zone:aisle3,zone:bakery); store: the whole store\'s traffic' },
    { name: 'control-db', value: 'FILE', description: "another store's SQLite file to read the controls from (e.g. --control store: a store without the change)" },
    { name: 'config', value: 'FILE', description: "the gateway config: the store's time zone and the KPI settings used for days computed from raw events" },
    { name: 'timezone', value: 'ZONE', description: "the store's IANA time zone (Europe/Paris)", defaultText: "the config's timezone with --config, else this machine's" },
    { name: 'json', description: 'print the report as one JSON object instead of text' },
  ],
  examples: [
    {
      note: 'did moving the promo display on 14 March change its zone, against two untouched aisles?',
      command: 'storepulse impact --db /var/lib/storepulse/storepulse.db --subject zone:promo --change 2026-03-14 --control zone:aisle3,zone:aisle4',
    },
  ],
} as const satisfies CommandSpec;

/** In the order the overview lists them. */
export const COMMAND_SPECS = [RUN, DETECT, ANALYZE, EVAL, DEMO, CENTRAL, IMPACT] as const;
