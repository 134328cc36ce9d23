"""Map tiles (地图瓦片): grid maths, MVT encoding, PNG rendering, and an in-process cache invalidated on edit."""
