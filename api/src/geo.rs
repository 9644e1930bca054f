//! Distances on the map: great-circle (haversine) kilometres between two positions, and a
//! grid of cells that finds what lies near a point with a few term lookups.

use geo::{Distance, Haversine, Point};

/// A position as latitude and longitude in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
}

impl Position {
    pub fn new(latitude: f64, longitude: f64) -> Self {
        Position { latitude, longitude }
    }

    fn point(self) -> Point {
        Point::new(self.longitude, self.latitude)
    }
}

/// Great-circle distance in kilometres.
pub fn distance_km(a: Position, b: Position) -> f64 {
    Haversine.distance(a.point(), b.point()) / 1000.0
}

/// Cell sizes in degrees, finest first: a location is indexed in its cell at every size, and
/// a radius asks for the cells around it at the finest size where they are few.
const CELL_DEGREES: [f64; 4] = [0.05, 0.2, 0.8, 3.2];
/// The most cells a radius asks for; beyond this at every size it asks for none.
const MAX_CELLS: usize = 36;
/// Kilometres per degree of latitude, rounded down so that boxes err on the large side.
const KM_PER_DEGREE: f64 = 111.0;

/// The cells `position` lies in, one per size, as index terms.
pub fn cells_of(position: Position) -> impl Iterator<Item = String> {
    CELL_DEGREES.iter().enumerate().map(move |(level, size)| {
        cell_term(
            level,
            (position.latitude / size).floor() as i64,
            (position.longitude / size).floor() as i64,
        )
    })
}

/// The cells that hold every position within `km` of `centre` (and some beyond it), as index
/// terms; `None` when the circle needs more than `MAX_CELLS` cells even at the largest size.
pub fn cells_near(centre: Position, km: f64) -> Option<Vec<String>> {
    let dlat = km / KM_PER_DEGREE;
    // The box is as wide as the circle where it is widest: at its edge nearest a pole.
    let widest = (centre.latitude.abs() + dlat).min(89.0).to_radians().cos();
    let dlon = km / (KM_PER_DEGREE * widest);
    CELL_DEGREES.iter().enumerate().find_map(|(level, size)| {
        let span =
            |centre: f64, half: f64| ((centre - half) / size).floor() as i64..=((centre + half) / size).floor() as i64;
        let rows = span(centre.latitude, dlat);
        let cols = span(centre.longitude, dlon);
        let count = rows.clone().count() * cols.clone().count();
        (count <= MAX_CELLS).then(|| {
            rows.flat_map(|row| cols.clone().map(move |col| cell_term(level, row, col)))
                .collect()
        })
    })
}

fn cell_term(level: usize, row: i64, col: i64) -> String {
    format!("{level}:{row}:{col}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Destination;

    #[test]
    fn the_cells_near_a_point_hold_every_place_within_the_radius() {
        let towns = [
            Position::new(50.9378, 4.0403),
            Position::new(51.33, 2.55),
            Position::new(49.5, 6.4),
        ];
        for centre in towns {
            for km in [0.5, 5.0, 15.0, 40.0, 120.0, 300.0] {
                let cells = cells_near(centre, km).expect("a Belgian radius is a few cells");
                assert!(cells.len() <= MAX_CELLS);
                for bearing in (0..360).step_by(5) {
                    for share in [0.3, 0.999] {
                        let p = Haversine.destination(centre.point(), f64::from(bearing), km * share * 1000.0);
                        let place = Position::new(p.y(), p.x());
                        assert!(distance_km(centre, place) <= km);
                        assert!(
                            cells_of(place).any(|cell| cells.contains(&cell)),
                            "{km} km from {centre:?} at {bearing}°: {place:?} is in none of {cells:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_small_radius_asks_for_few_small_cells() {
        let cells = cells_near(Position::new(50.9378, 4.0403), 15.0).unwrap();
        assert!(cells.iter().all(|c| c.starts_with("1:")), "{cells:?}");
        let far = cells_of(Position::new(51.2194, 4.4025)).collect::<Vec<_>>();
        assert!(
            !far.iter().any(|c| cells.contains(c)),
            "Antwerp is not within 15 km of Aalst"
        );
    }

    #[test]
    fn aalst_to_gent_is_about_27_km() {
        let aalst = Position::new(50.9378, 4.0403);
        let gent = Position::new(51.0543, 3.7174);
        let km = distance_km(aalst, gent);
        assert!((25.0..29.0).contains(&km), "{km}");
    }
}
