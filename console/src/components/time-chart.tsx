// Counts over time as lines on a uPlot canvas: made once on mount, given new data when it changes,
// sized to its container's width as that changes, destroyed on unmount. The canvas is only a
// picture: the page around it names it and says its numbers in text. The legend is a key and shows
// the values under the cursor; it hides no line on a click (a mouse-only control: uPlot's legend
// rows take no focus), so every line stays drawn.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  /** A CSS colour, or one of the style sheet's custom properties by name (--allowed). */
  color: string;
  /** Dashes (on, off px) tell a line apart without its colour. */
  dash?: readonly number[];
  values: readonly number[];
}

const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8];

function resolve(color: string): string {
  if (!color.startsWith('--')) return color;
  return getComputedStyle(document.documentElement).getPropertyValue(color).trim() || '#555';
}

function optionsOf(width: number, height: number, series: readonly ChartSeries[]): uPlot.Options {
  return {
    width,
    height,
    // Times are instants in ms; uPlot shows them in the viewer's zone.
    ms: 1,
    scales: { y: { range: (_plot, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
    legend: { live: true },
    // uPlot listens for clicks only on the legend's labels (to hide a line): no listener, no toggle.
    cursor: { bind: { click: () => null } },
    axes: [{}, { incrs: INTEGER_STEPS, size: 48 }],
    series: [
      { label: 'Time' },
      ...series.map((line) => ({
        label: line.label,
        stroke: resolve(line.color),
        width: 2,
        ...(line.dash === undefined ? {} : { dash: [...line.dash] }),
        // Points while there is room for them (uPlot leaves them out of a dense line).
        points: { size: 5 },
        value: (_plot: uPlot, value: number | null) => (value === null ? '—' : String(value)),
      })),
    ],
  };
}

const dataOf = (times: readonly number[], series: readonly ChartSeries[]): uPlot.AlignedData => [
  [...times],
  ...series.map((line) => [...line.values]),
];

/** Pass the same arrays while the data is the same (useMemo): new ones redraw the chart. */
export function TimeChart({
  times,
  series,
  height = 240,
}: {
  times: readonly number[];
  series: readonly ChartSeries[];
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The lines themselves (not their values): a change makes the chart again.
  const shape = JSON.stringify(series.map(({ label, color, dash }) => [label, color, dash]));
  // Dependencies: made again only when the lines or the height change; values arrive below
  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const chart = new uPlot(optionsOf(element.clientWidth || 600, height, series), dataOf(times, series), element);
    plot.current = chart;
    const observer = new ResizeObserver(() => {
      const width = element.clientWidth;
      if (width > 0 && width !== chart.width) chart.setSize({ width, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [shape, height]);
  useEffect(() => {
    plot.current?.setData(dataOf(times, series));
  }, [times, series]);
  return <div class="time-chart" ref={box} />;
}
