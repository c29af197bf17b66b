/**
 * The HTML report as a browser paints it: headless Chromium (Debian `chromium`) screenshots the
 * fixture's report, and the PNG must show the charts, i.e. each variant's colour over thousands of
 * pixels (a line across five charts), the guardrail event's marker lines, the verdict badge, and
 * a page that is not blank.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReportHtml } from "../../../local/report/html.ts";
import { EVENT_COLOURS, VARIANT_COLOURS, VERDICT_COLOURS } from "../../../local/report/palette.ts";
import { demoResultFixture } from "../demo-result-fixture.ts";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const WIDTH = 1280;
/** Taller than the report, so the screenshot holds all of it. */
const HEIGHT = 4200;

let dir: string;
let png: PNG;

function requireChromium(): void {
  const probe = spawnSync(CHROMIUM, ["--version"], { encoding: "utf8", timeout: 30_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `cannot run ${CHROMIUM} (${probe.error?.message ?? probe.stderr.trim()}): the screenshot test needs Chromium; install the Debian package with \`apt-get install chromium\` or set CHROMIUM to its path`,
    );
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "llm-ab-report-shot-"));
  requireChromium();
  const html = join(dir, "report.html");
  writeFileSync(html, renderReportHtml(await demoResultFixture()));
  const shot = join(dir, "report.png");
  const run = spawnSync(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-dev-shm-usage",
      "--hide-scrollbars",
      "--no-first-run",
      `--user-data-dir=${join(dir, "profile")}`,
      `--screenshot=${shot}`,
      `--window-size=${WIDTH},${HEIGHT}`,
      pathToFileURL(html).href,
    ],
    { encoding: "utf8", timeout: 90_000 },
  );
  if (!existsSync(shot)) {
    throw new Error(
      `${CHROMIUM} wrote no screenshot (exit ${run.status}, ${run.error?.message ?? run.stderr.trim().slice(-500)}); is the Debian package chromium installed and working?`,
    );
  }
  png = PNG.sync.read(readFileSync(shot));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Pixels within `tolerance` of `hex` on every channel (antialiased edges fall outside). */
function pixelsOf(hex: string, tolerance = 24): number {
  const [r, g, b] = rgb(hex);
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if (
      Math.abs(png.data[i]! - r) <= tolerance &&
      Math.abs(png.data[i + 1]! - g) <= tolerance &&
      Math.abs(png.data[i + 2]! - b) <= tolerance
    ) {
      n++;
    }
  }
  return n;
}

describe("the HTML report in headless Chromium", () => {
  it("renders a page of the requested size that is not blank", () => {
    expect([png.width, png.height]).toEqual([WIDTH, HEIGHT]);
    const background = pixelsOf("#f4f5f7", 2) + pixelsOf("#ffffff", 2);
    const painted = png.width * png.height - background;
    // Text, axes, lines and the badge: far more than a blank or error page would hold.
    expect(painted).toBeGreaterThan(100_000);
  });

  it.each([
    ["control", VARIANT_COLOURS[0]],
    ["treatment", VARIANT_COLOURS[1]],
  ])("paints the %s lines across the charts", (_variant, colour) => {
    // A 2 px line over a 1,000 px plot is about 2,000 pixels per chart: more than one chart holds it.
    expect(pixelsOf(colour)).toBeGreaterThan(4_000);
  });

  it("paints the pause marker on every chart and the verdict badge", () => {
    // A 2 px line down a ~200 px plot, on five charts, plus its labels.
    expect(pixelsOf(EVENT_COLOURS.pause)).toBeGreaterThan(1_500);
    expect(pixelsOf(VERDICT_COLOURS.hold.background, 8)).toBeGreaterThan(5_000);
  });
});
