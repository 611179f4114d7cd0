package demo

import "linli/viewer"

// Account is a demo account that can sign in. README and tests read this list,
// so the documented credentials and the loaded ones cannot drift apart.
type Account struct {
	Role        viewer.Role
	Community   string
	DisplayName string
	Phone       string
	Password    string
}

// The demo communities.
const (
	Qianjin = "前进社区"
	Hongqi  = "红旗社区"
)

// Demo phone numbers use the 138 block and generated people the 137 block;
// the test fixtures hand out 139 numbers, so the three never collide when a
// test loads the demo and adds fixture people to the same database.
var (
	qianjinCoordinator = Account{viewer.Coordinator, Qianjin, "汪晓梅", "13800000001", "qianjin-coord"}
	qianjinLeader      = Account{viewer.TeamLeader, Qianjin, "方志远", "13800000002", "qianjin-leader"}
	qianjinVolunteer   = Account{viewer.Volunteer, Qianjin, "吴小雨", "13800000003", "qianjin-volunteer"}
	qianjinResident    = Account{viewer.Resident, Qianjin, "章桂兰", "13800000004", "qianjin-resident"}
	hongqiCoordinator  = Account{viewer.Coordinator, Hongqi, "刘建国", "13800000005", "hongqi-coord"}
	platformAdmin      = Account{viewer.Admin, Qianjin, "平台管理员", "13800000006", "linli-admin"}
)

// Accounts are the demo accounts with passwords. Every other demo person has
// no password and cannot sign in.
var Accounts = []Account{
	qianjinCoordinator,
	qianjinLeader,
	qianjinVolunteer,
	qianjinResident,
	hongqiCoordinator,
	platformAdmin,
}
