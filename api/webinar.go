package api

// publicWebinar is what anyone allowed to watch may know of a webinar: never its key. Members
// get a webinarView instead (webinars.go).
type publicWebinar struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Language string `json:"language"`
	Live     bool   `json:"live"`
	Viewers  int    `json:"viewers"`
}
