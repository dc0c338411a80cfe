//! Report charts as geometry: a chart's data is laid out here into rectangles, lines and text
//! that a template draws as SVG on the server. No scripts, no fonts: colours come from CSS
//! classes (so dark mode and forced colours apply), and every mark carries its value in a
//! `<title>` for screen readers and hover.

/// How the series are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// One line per series over the labels (trends).
    Lines,
    /// Series stacked in one bar per label.
    StackedBars,
    /// One horizontal bar per label, from the first series only (funnels, top-N lists).
    Funnel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// A chart's data: labels along the x axis (or down the side for a funnel), series of values,
/// one per label.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub key: String,
    pub title: String,
    pub style: Style,
    pub labels: Vec<String>,
    pub series: Vec<Series>,
    /// Unit of the values, for the axis and titles ("incidents", "h").
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rect {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    /// CSS class of the series (s0, s1, …).
    pub class: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub points: String,
    pub class: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub x: String,
    pub y: String,
    /// start, middle or end.
    pub anchor: &'static str,
    pub text: String,
}

/// A chart laid out in a `width` × `height` view box.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    pub rects: Vec<Rect>,
    pub lines: Vec<Line>,
    pub grid: Vec<Line>,
    pub texts: Vec<Text>,
    /// (class, series name) for the legend.
    pub legend: Vec<(String, String)>,
}

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

fn n(v: f64) -> String {
    format!("{:.1}", if v.is_finite() { v } else { 0.0 })
}

/// A round number at or above `max` (1, 2, 5 × 10ⁿ), at least 1.
pub fn nice_max(max: f64) -> f64 {
    if !max.is_finite() || max <= 1.0 {
        return 1.0;
    }
    let mag = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|c| *c >= max).unwrap_or(10.0 * mag)
}

fn value_text(v: f64, unit: &str) -> String {
    let v = if (v - v.round()).abs() < 0.05 { format!("{}", v.round()) } else { format!("{v:.1}") };
    if unit.is_empty() { v } else { format!("{v} {unit}") }
}

impl Chart {
    /// The largest value the axis must reach: the largest stack for stacked bars.
    fn top(&self) -> f64 {
        let per_label = |i: usize| -> f64 {
            let vals = self.series.iter().map(|s| s.values.get(i).copied().unwrap_or(0.0));
            if self.style == Style::StackedBars { vals.sum() } else { vals.fold(0.0, f64::max) }
        };
        (0..self.labels.len()).map(per_label).fold(0.0, f64::max)
    }

    pub fn layout(&self) -> Layout {
        let mut out = Layout {
            width: W as u32,
            height: H as u32,
            rects: Vec::new(),
            lines: Vec::new(),
            grid: Vec::new(),
            texts: Vec::new(),
            legend: self.series.iter().enumerate().map(|(i, s)| (format!("s{}", i % 6), s.name.clone())).collect(),
        };
        if self.style == Style::Funnel {
            self.funnel(&mut out);
            return out;
        }
        let top = nice_max(self.top());
        let plot_w = W - LEFT - RIGHT;
        let plot_h = H - TOP - BOTTOM;
        let y_of = |v: f64| TOP + plot_h - (v / top) * plot_h;
        for frac in [0.0, 0.5, 1.0] {
            let y = y_of(top * frac);
            out.grid.push(Line {
                points: format!("{},{} {},{}", n(LEFT), n(y), n(W - RIGHT), n(y)),
                class: "grid".into(),
                title: String::new(),
            });
            out.texts.push(Text { x: n(LEFT - 6.0), y: n(y + 4.0), anchor: "end", text: value_text(top * frac, "") });
        }
        let count = self.labels.len().max(1);
        let slot = plot_w / count as f64;
        // At most about eight labels fit under the axis.
        let every = count.div_ceil(8).max(1);
        for (i, label) in self.labels.iter().enumerate() {
            if i % every == 0 {
                out.texts.push(Text {
                    x: n(LEFT + slot * (i as f64 + 0.5)),
                    y: n(H - 8.0),
                    anchor: "middle",
                    text: label.clone(),
                });
            }
        }
        match self.style {
            Style::StackedBars => {
                let bar_w = (slot * 0.7).max(1.0);
                for (i, label) in self.labels.iter().enumerate() {
                    let mut base = 0.0;
                    for (si, s) in self.series.iter().enumerate() {
                        let v = s.values.get(i).copied().unwrap_or(0.0);
                        if v <= 0.0 {
                            continue;
                        }
                        let (y1, y0) = (y_of(base + v), y_of(base));
                        out.rects.push(Rect {
                            x: n(LEFT + slot * i as f64 + (slot - bar_w) / 2.0),
                            y: n(y1),
                            w: n(bar_w),
                            h: n(y0 - y1),
                            class: format!("s{}", si % 6),
                            title: format!("{label}: {} {}", s.name, value_text(v, &self.unit)),
                        });
                        base += v;
                    }
                }
            }
            _ => {
                for (si, s) in self.series.iter().enumerate() {
                    // A value that is not a number (no figure for that interval) breaks the line.
                    let mut segment: Vec<String> = Vec::new();
                    let mut segments: Vec<Vec<String>> = Vec::new();
                    for (i, v) in s.values.iter().enumerate() {
                        if v.is_finite() {
                            segment.push(format!("{},{}", n(LEFT + slot * (i as f64 + 0.5)), n(y_of(*v))));
                        } else if !segment.is_empty() {
                            segments.push(std::mem::take(&mut segment));
                        }
                    }
                    segments.push(segment);
                    for points in segments.into_iter().filter(|p| p.len() > 1) {
                        out.lines.push(Line {
                            points: points.join(" "),
                            class: format!("s{}", si % 6),
                            title: s.name.clone(),
                        });
                    }
                    for (i, v) in s.values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
                        out.rects.push(Rect {
                            x: n(LEFT + slot * (i as f64 + 0.5) - 2.5),
                            y: n(y_of(*v) - 2.5),
                            w: "5".into(),
                            h: "5".into(),
                            class: format!("s{}", si % 6),
                            title: format!(
                                "{}: {} {}",
                                self.labels.get(i).map_or("", String::as_str),
                                s.name,
                                value_text(*v, &self.unit)
                            ),
                        });
                    }
                }
            }
        }
        out
    }

    fn funnel(&self, out: &mut Layout) {
        let rows = self.labels.len().max(1);
        let row_h = 28.0;
        out.height = (TOP * 2.0 + row_h * rows as f64) as u32;
        let label_w = 180.0;
        let plot_w = W - label_w - 80.0;
        let values = self.series.first().map(|s| s.values.clone()).unwrap_or_default();
        let top = nice_max(values.iter().copied().fold(0.0, f64::max));
        for (i, label) in self.labels.iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0.0);
            let y = TOP + row_h * i as f64;
            let w = (v / top) * plot_w;
            out.texts.push(Text { x: n(label_w - 8.0), y: n(y + row_h * 0.65), anchor: "end", text: label.clone() });
            out.rects.push(Rect {
                x: n(label_w),
                y: n(y + 4.0),
                w: n(w.max(1.0)),
                h: n(row_h - 8.0),
                class: "s0".into(),
                title: format!("{label}: {}", value_text(v, &self.unit)),
            });
            out.texts.push(Text {
                x: n(label_w + w + 6.0),
                y: n(y + row_h * 0.65),
                anchor: "start",
                text: value_text(v, ""),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(style: Style, values: Vec<Vec<f64>>) -> Chart {
        Chart {
            key: "k".into(),
            title: "T".into(),
            style,
            labels: (0..values.first().map_or(0, Vec::len)).map(|i| format!("d{i}")).collect(),
            series: values.into_iter().enumerate().map(|(i, v)| Series { name: format!("s{i}"), values: v }).collect(),
            unit: "incidents".into(),
        }
    }

    #[test]
    fn axes_round_up_and_stacks_sum() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(13.0), 20.0);
        assert_eq!(nice_max(420.0), 500.0);
        let l = chart(Style::StackedBars, vec![vec![3.0, 0.0], vec![2.0, 1.0]]).layout();
        // Two marks for label 0 (3 and 2), one for label 1: zero values draw nothing.
        assert_eq!(l.rects.len(), 3);
        assert!(l.rects[0].title.contains("d0: s0 3 incidents"), "{:?}", l.rects[0]);
        // The axis reaches the largest stack (5) rounded up to 5: the stack fills the plot.
        let top: f64 = l.rects[1].y.parse().unwrap_or_default();
        assert!((top - TOP).abs() < 0.11, "{top}");
    }

    #[test]
    fn funnels_grow_with_their_rows_and_empty_charts_draw() {
        let l = chart(Style::Funnel, vec![vec![10.0, 4.0, 1.0]]).layout();
        assert_eq!(l.rects.len(), 3);
        assert!(l.height > 60);
        let gap = chart(Style::Lines, vec![vec![1.0, 2.0, f64::NAN, 3.0, 4.0]]).layout();
        assert_eq!(gap.lines.len(), 2, "no figure breaks the line");
        assert_eq!(gap.rects.len(), 4);
        let empty = chart(Style::Lines, vec![Vec::new()]).layout();
        assert!(empty.rects.is_empty());
        assert_eq!(empty.grid.len(), 3);
    }
}
