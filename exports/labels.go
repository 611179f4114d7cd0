package exports

import (
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/request"
)

// Chinese labels of the codes the sheets show. A sheet shows the label and,
// where machines read it, the code in the column beside it (…代码).
// TestEveryCodeHasALabel keeps these maps in step with the Ent enums.
var (
	categoryText = map[activity.Category]string{
		activity.CategorySQUARE: "场（文化广场）", activity.CategoryHALL: "堂（道德讲堂）", activity.CategoryFAMILY: "庭（文明家庭）",
		activity.CategorySCHOOL: "校（市民学校）", activity.CategoryONLINE: "网（网络）",
	}
	serviceTypeText = map[activity.ServiceType]string{
		activity.ServiceTypeAPPEALS: "诉求解忧", activity.ServiceTypePOVERTY_RELIEF: "扶贫帮困", activity.ServiceTypeCULTURE: "文化娱乐",
		activity.ServiceTypeCOUNSELING: "心理疏导", activity.ServiceTypeLEGAL: "法律咨询", activity.ServiceTypeHEALTH: "医疗保健",
		activity.ServiceTypeEDUCATION: "教育助学", activity.ServiceTypeEMPLOYMENT: "就业帮扶",
	}
	statusText = map[registration.Status]string{
		registration.StatusCONFIRMED: "已报名", registration.StatusCHECKED_IN: "已签到",
		registration.StatusCHECKED_OUT: "已签退", registration.StatusNO_SHOW: "未到",
		registration.StatusWAITLISTED: "候补", registration.StatusPENDING_APPROVAL: "待审核",
		registration.StatusCANCELLED: "已取消", registration.StatusOFFERED: "候补待确认",
	}
	kindText = map[request.Kind]string{
		request.KindREPAIR: "维修", request.KindELDERLY_CARE: "养老照护", request.KindDISPUTE: "矛盾纠纷",
		request.KindLEGAL: "法律", request.KindHEALTH: "医疗健康", request.KindEMPLOYMENT: "就业",
		request.KindLIVELIHOOD: "民生", request.KindENVIRONMENT: "环境卫生", request.KindSUGGESTION: "意见建议",
		request.KindOTHER: "其他",
	}
	channelText = map[request.Channel]string{
		request.ChannelAPP: "手机应用", request.ChannelWECHAT_GROUP: "微信群", request.ChannelPHONE: "电话",
		request.ChannelWALK_IN: "来访", request.ChannelHOME_VISIT: "走访",
	}
	requestStatusText = map[request.Status]string{
		request.StatusSUBMITTED: "已提交", request.StatusACCEPTED: "已受理", request.StatusASSIGNED: "已派单",
		request.StatusIN_PROGRESS: "办理中", request.StatusRESOLVED: "已办结", request.StatusCLOSED: "已评价关闭",
		request.StatusREJECTED: "不予受理",
	}
	outcomeText = map[request.Outcome]string{
		request.OutcomeSOLVED: "已解决", request.OutcomeMEDIATED: "调解成功", request.OutcomeREFERRED: "已转办",
		request.OutcomeEXPLAINED: "已解释说明", request.OutcomeUNRESOLVED: "未能解决",
	}
)

// label is the Chinese label of code in labels; the code itself when it
// has none (a value added to an enum before its label).
func label[K ~string](labels map[K]string, code K) string {
	if l, ok := labels[code]; ok {
		return l
	}
	return string(code)
}
