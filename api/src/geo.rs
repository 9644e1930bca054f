//! Distances on the map: great-circle (haversine) kilometres between two positions.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aalst_to_gent_is_about_27_km() {
        let aalst = Position::new(50.9378, 4.0403);
        let gent = Position::new(51.0543, 3.7174);
        let km = distance_km(aalst, gent);
        assert!((25.0..29.0).contains(&km), "{km}");
    }
}
