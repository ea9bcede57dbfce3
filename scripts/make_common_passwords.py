"""Writes complaints/wordlists/common_passwords.txt: base words of commonly chosen passwords (one per line).

The words come from what is publicly known about the most used passwords (the yearly "worst passwords" lists,
leaked-corpus studies): the top passwords themselves, the words they are built from (names, sports, pets,
seasons, months, places, brands, keyboard walks, the word "password" in many languages), lower-cased. The
password policy (complaints.passwords) compares a password's letters, with digits and punctuation taken out,
against these words, so `Summer2024!!!!!!` counts as `summer`. Nothing is downloaded: rerun to regenerate.
"""

from __future__ import annotations

import re
from pathlib import Path

TOP = """
123456 password 123456789 12345678 12345 qwerty 1234567 111111 1234567890 123123 abc123 1234 password1 iloveyou
1q2w3e4r 000000 qwerty123 zaq12wsx dragon sunshine princess letmein 654321 monkey 1qaz2wsx 123321 qwertyuiop
superman asdfghjkl trustno1 football baseball welcome shadow master michael jennifer hunter jordan harley ranger
buster soccer hockey killer george charlie andrew michelle love tigger thomas robert daniel starwars computer
whatever freedom batman access mustang passw0rd admin welcome1 login ashley bailey qazwsx ninja azerty solo loveme
flower hello photoshop adobe cheese secret summer winter spring autumn fall pokemon naruto minecraft fortnite
roblox google yahoo facebook linkedin twitter instagram myspace apple samsung microsoft windows linux ubuntu
changeme default guest test tester testing temp temporary user username administrator root toor pass passpass
letmein mypass mypassword yourpassword nopassword secret secretpassword topsecret private confidential
iloveu lovely loveyou lover sweetheart darling honey angel angels baby babygirl babyboy princess1 prince queen
king kingdom god jesus christ christian blessed faith heaven lucky lucky7 magic wizard merlin gandalf
matrix neo trinity zion skywalker jedi yoda vader starwars startrek enterprise spock
qwertz qwert asdf asdfgh zxcvbn zxcvbnm qazxsw wsxedc edcrfv poiuytrewq mnbvcxz lkjhgfdsa
iloveyou2 sunshine1 football1 princess2 charlie1 monkey1 dragon1 master1 shadow1 killer1 hunter2
abcdef abcdefg abcdefgh abcd abc xyz asdasd qweqwe zxczxc aaa qwe asd zxc
michael1 jessica amanda joshua matthew david james john jennifer1 sarah nicole daniel1 anthony justin
william taylor jordan23 michelle1 heather hannah samantha chris christopher brandon melissa elizabeth
jasmine joseph maggie ginger pepper buddy max molly daisy lucy rocky bella coco charlie2 sophie chloe
oliver jack harry jacob ethan emma olivia ava isabella mia emily abigail madison alexander alex alexandra
maria mariana mario marina martin martina carlos carla juan jose luis pedro pablo diego sofia lucia
andrea giulia francesco marco matteo luca anna hans peter thomas1 stefan sabine julia lena laura
ahmed mohammed mohamed ali fatima hassan hussein omar yusuf mustafa reza mehdi sara zahra maryam
ivan dmitry sergey natasha olga tatiana svetlana andrei alexey vladimir
wei li wang zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin
hiroshi yuki sakura naruto1 goku vegeta
arsenal chelsea liverpool manchester manutd united barcelona barca realmadrid madrid juventus milan
inter bayern dortmund celtic rangers everton tottenham spurs newcastle leeds ajax psg
lakers yankees redsox cowboys steelers packers eagles patriots giants raiders broncos bulls celtics
warriors dolphins bears chargers vikings saints falcons panthers ravens bengals browns
golf tennis boxing rugby cricket basketball volleyball skater surfer biker racing ferrari porsche
mercedes bmw audi toyota honda nissan ford chevy chevrolet corvette camaro harley1 yamaha suzuki
kawasaki ducati jaguar mustang1 lexus volvo tesla
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday weekend holiday christmas easter
red blue green yellow orange purple pink black white silver gold golden brown violet
tiger lion eagle falcon wolf bear panda dolphin shark cat cats dog dogs doggie puppy kitty kitten
horse pony bunny rabbit monkey2 turtle snake spider butterfly bird parrot fish dragonfly unicorn
phoenix cobra viper python scorpion
london paris berlin rome madrid1 tokyo newyork chicago boston dallas houston miami texas california
florida canada america usa england france germany italy spain mexico brazil india china japan iran
russia australia ireland scotland wales holland sweden norway denmark finland poland turkey egypt
tehran istanbul moscow beijing shanghai delhi mumbai cairo dubai sydney toronto vancouver
coffee chocolate cookie cookies cupcake candy sugar banana apple1 orange1 cherry strawberry pizza
burger pasta cheese1 butter bacon pepsi cocacola beer whisky vodka
music guitar piano rock rockstar metal metallica slipknot nirvana eminem beatles elvis queen1 abba
madonna rihanna beyonce shakira britney justinbieber bieber onedirection bts blackpink
money cash rich dollar dollars euro bitcoin crypto business company office work worker manager
boss bossman student school college university teacher doctor nurse police army navy soldier
hello1 hello123 hi hey welcome123 goodbye bye thanks please sorry
happy happiness smile sunny rainbow star stars moon sun sky cloud rain snow storm thunder lightning
ocean sea beach island river mountain forest tree flower1 rose lily jasmine1 tulip daisy1
life live alive dream dreams hope forever always never nothing everything something anything
family friend friends friendship brother sister mother father mom dad mommy daddy son daughter
wife husband girlfriend boyfriend marriage wedding
fuck fuckyou fuckoff shit bitch asshole sexy sex hot hottie
hacker hack hacked hackme cyber security secure safe safety protect protected shield firewall
internet network server computer1 laptop desktop keyboard mouse monitor system database oracle
mysql postgres postgresql sql java javascript python1 php ruby perl
iloveyou1 iloveme imissyou loveyou1 mylove lovelove babylove
qwerty1 qwerty12 qwertyu qwertyui asdfg asdfghj zxcvb 1qazxsw2 2wsx3edc qwer1234 asdf1234 zxcv1234
pass1234 abcd1234 admin123 root123 test123 user123 guest123 demo demo123
superstar superhero spiderman ironman captain america1 hulk thor avengers marvel dc wonderwoman
joker harleyquinn gotham pokemon1 pikachu mario zelda link sonic pacman tetris halo xbox playstation
nintendo gamer gaming game games player
password123 password12 password1234 passwords passcode passphrase pwd pw
motdepasse passwort kennwort contrasena contrasenya senha parola wachtwoord haslo heslo salasana
lozinka sifre jelszo parool geslo slaptazodis parole adgangskode losenord passord
parolparol rahasia katasandi matkhau
welcome2 letmein1 trustno nothing1 iamgod godisgood jesus1 blessed1
earful complaint complaints register review quality admin1 administrator1
correcthorsebatterystaple correct horse battery staple
"""

# Rows of common keyboards, forwards; walks along them are refused as sequences by the policy itself.
EXTRA = "qwertyuiop asdfghjkl zxcvbnm azertyuiop qsdfghjklm wxcvbn qwertzuiop yxcvbnm"


def words() -> list[str]:
    """The base words, letters only, lower-case, at least three letters, sorted, without duplicates."""
    out = set()
    for token in (TOP + " " + EXTRA).split():
        core = re.sub(r"[^a-z]+", "", token.lower())
        if len(core) >= 3:
            out.add(core)
    return sorted(out)


def main() -> None:
    target = Path(__file__).resolve().parents[1] / "complaints" / "wordlists" / "common_passwords.txt"
    target.write_text("\n".join(words()) + "\n", encoding="utf-8")
    print(f"wrote {target} ({len(words())} words)")


if __name__ == "__main__":
    main()
