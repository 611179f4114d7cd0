package demo

import (
	"math/rand/v2"
	"strings"
)

// Fictional names: a common surname and a common given name (one character
// or two), drawn from a seeded generator so every load produces the same people.
var (
	surnames    = strings.Split("王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 肖 田 董 袁 潘 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦 方 白 邹 孟 熊 秦 江 尹 薛 段 雷 侯 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 章 檀 左", " ")
	singleNames = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华辉峰慧琳颖雪梅宇浩斌鹏")
	doubleNames = strings.Split("建国 建华 建军 建平 国强 国平 国华 国庆 志强 志明 志刚 志勇 秀英 秀兰 秀珍 桂英 桂兰 桂芳 玉兰 玉珍 玉梅 凤英 淑珍 淑华 丽华 丽娟 海燕 海涛 海波 春燕 春华 红梅 红霞 红英 晓燕 晓东 晓明 晓峰 晓丽 卫东 卫国 立新 永红 永强 德胜 德明 德华 振华 文华 文杰 文静 俊杰 子轩 子涵 梓涵 欣怡 思雨 雨桐 浩然 宇轩 嘉怡 嘉豪 佳琪 佳怡 雅婷 诗涵 一鸣 明轩 晨曦 博文 天佑 梦琪 静怡 婷婷 丹丹 亚楠 秋菊 冬梅 金凤 翠兰 美玲 慧敏 慧娟 小芳 小军 明华 新民 胜利 保国 长江 荣华 家乐 思远 雨欣 俊熙 安琪", " ")
)

// Two-character given names are the more common kind: 7 in 10.
const twoCharShare = 7

// nameGen hands out display names that are unique within one generator.
type nameGen struct {
	rng  *rand.Rand
	used map[string]bool
}

func newNameGen(rng *rand.Rand, reserved ...string) *nameGen {
	g := &nameGen{rng: rng, used: map[string]bool{}}
	for _, n := range reserved {
		g.used[n] = true
	}
	return g
}

func (g *nameGen) next() string {
	for {
		n := surnames[g.rng.IntN(len(surnames))]
		if g.rng.IntN(10) < twoCharShare {
			n += doubleNames[g.rng.IntN(len(doubleNames))]
		} else {
			n += string(singleNames[g.rng.IntN(len(singleNames))])
		}
		if !g.used[n] {
			g.used[n] = true
			return n
		}
	}
}
